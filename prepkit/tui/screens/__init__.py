"""One module per screen; modal dialogs live in `modals`."""
