"""Review policies by dynamic programming: when to see a card next, given what minutes are worth.

The courses in `courses` are a fixed menu. The best way to study one card, given a price for a
second of each day, is a policy that looks at what happened: a card recalled easily can wait for
the last days, one forgotten needs another look soon. This module finds that policy by backward
induction over a grid of memories (log stability by difficulty) for each day, then follows it
exactly from a card's real memory (each next review chosen by one step of look-ahead on the
grid's values) to price it as a course. The allocation offers these courses to the LP when it
has its day prices: column generation with the best possible course for every choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from prepkit.schedule.courses import Calendar, Course, Model, morning_age

STEP = 0.1  # grid step in log stability
LOWEST, HIGHEST = math.log(0.05), math.log(3650.0)  # plans are short: S beyond is all recall
D_STEP = 1.0  # grid step in difficulty (1 to 10)
PRUNE = 2e-3  # outcomes less likely than this are not followed further


class _Moves:
    """For one elapsed time: recall on every grid cell, its cost, and where the two outcomes of
    a review land on the grid (bilinear coordinates)."""

    def __init__(self, model: Model, grid: _Grid, elapsed: int) -> None:
        import numpy as np

        w, q = model.memory.w, model.costs.success_rating
        s, d = grid.s, grid.d
        r = (1 + model.memory.factor * elapsed / s) ** model.memory.decay
        self.recall = r
        self.seconds = r * model.success_seconds + (1 - r) * model.lapse_seconds

        def difficulty(x: Any, grade: int) -> Any:
            damped = x + (10.0 - x) * (-w[6] * (grade - 3)) / 9.0
            return np.clip(w[7] * model.memory.easy + (1 - w[7]) * damped, 1.0, 10.0)

        k = math.exp(w[8]) * (11 - d) * s ** -w[9] * (np.exp((1 - r) * w[10]) - 1)
        log_ok = np.log(s) + (
            q[0] * np.log1p(k * w[15]) + q[1] * np.log1p(k) + q[2] * np.log1p(k * w[16])
        )
        d_ok = q[0] * difficulty(d, 2) + q[1] * difficulty(d, 3) + q[2] * difficulty(d, 4)
        long_term = w[11] * d ** -w[12] * ((s + 1) ** w[13] - 1) * np.exp((1 - r) * w[14])
        sf = np.maximum(np.minimum(long_term, s / math.exp(w[17] * w[18])), 0.001)

        def short(x: Any, grade: int) -> Any:
            rise = np.maximum(math.exp(w[17] * (grade - 3 + w[18])) * x ** -w[19], 1.0)
            return np.maximum(x * rise, 0.001)

        good = q[1] / (q[1] + q[2])
        log_lapse = good * np.log(short(sf, 3)) + (1 - good) * np.log(short(sf, 4))
        df = difficulty(d, 1)
        d_lapse = good * difficulty(df, 3) + (1 - good) * difficulty(df, 4)
        self.ok = grid.locate(log_ok, d_ok)
        self.lapse = grid.locate(log_lapse, d_lapse)


class _Grid:
    def __init__(self) -> None:
        import numpy as np

        self.log_s = np.arange(LOWEST, HIGHEST + STEP / 2, STEP)
        self.diff = np.arange(1.0, 10.0 + D_STEP / 2, D_STEP)
        self.s = np.exp(self.log_s)[:, None] * np.ones(len(self.diff))[None, :]
        self.d = np.ones(len(self.log_s))[:, None] * self.diff[None, :]

    def locate(self, log_s: Any, d: Any) -> tuple[Any, Any]:
        """Where memories land on the grid: for each, the flat indices of its four neighbours
        and their bilinear weights (computed once per elapsed time, read many times)."""
        import numpy as np

        x = np.clip((log_s - LOWEST) / STEP, 0, len(self.log_s) - 1.000001)
        y = np.clip((d - 1.0) / D_STEP, 0, len(self.diff) - 1.000001)
        i, j = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = x - i, y - j
        width = len(self.diff)
        base = i * width + j
        index = np.stack([base, base + width, base + 1, base + width + 1])
        weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
        return index, weights

    @staticmethod
    def read(values: Any, at: tuple[Any, Any]) -> Any:
        index, weights = at
        return (values.ravel()[index] * weights).sum(axis=0)


class Policies:
    """The best review policy for a card of `weight`, when a second on day t costs
    `prices[t]` (in weighted recall), to the interview of `calendar`."""

    def __init__(
        self, model: Model, calendar: Calendar, prices: Sequence[float], weight: float
    ) -> None:
        import numpy as np

        self.model, self.calendar, self.weight = model, calendar, weight
        self.prices = list(prices)
        grid = self.grid = _Grid()
        horizon = calendar.horizon
        moves = {age: _Moves(model, grid, age) for age in range(1, horizon + 1)}
        # values[last]: what a card last reviewed on day `last` is worth at best, on the grid
        self.values: list[Any] = [None] * horizon
        # choices[last]: the best next review day from each cell (-1: none), as nested lists
        self.choices: list[list[list[int]]] = [[] for _ in range(horizon)]
        open_days = calendar.open
        for last in reversed(range(horizon)):
            best: Any = weight * moves[horizon - last].recall  # no more reviews
            choice = np.full(best.shape, -1)
            for day in open_days:
                if day <= last:
                    continue
                move = moves[day - last]
                later = self.values[day]
                value = (
                    -self.prices[day] * move.seconds
                    + move.recall * grid.read(later, move.ok)
                    + (1 - move.recall) * grid.read(later, move.lapse)
                )
                better = value > best
                choice = np.where(better, day, choice)
                best = np.where(better, value, best)
            self.values[last] = best
            self.choices[last] = choice.tolist()
        self.tables: list[list[list[float]]] = [values.tolist() for values in self.values]
        self.top_s, self.top_d = len(grid.log_s) - 1.000001, len(grid.diff) - 1.000001

    def _value(self, day: int, s: float, d: float) -> float:
        """The grid's value on `day` at this memory (bilinear; one card at a time, so plain
        Python: numpy's per-call overhead is larger than the arithmetic)."""
        x = min(max((math.log(s) - LOWEST) / STEP, 0.0), self.top_s)
        y = min(max((d - 1.0) / D_STEP, 0.0), self.top_d)
        i, j = int(x), int(y)
        fx, fy = x - i, y - j
        table = self.tables[day]
        low, high = table[i], table[i + 1]
        return (
            low[j] * (1 - fx) * (1 - fy)
            + high[j] * fx * (1 - fy)
            + low[j + 1] * (1 - fx) * fy
            + high[j + 1] * fx * fy
        )

    def next_review(self, s: float, d: float, last: int, start: int) -> int | None:
        """The best next review day from this memory (None: no more reviews): the grid's choice
        at the nearest cell, once the memory is on the grid's days (last reviewed today or
        later); before that (a card last seen before today), by one step of look-ahead."""
        if 0 <= last < self.calendar.horizon and start == last + 1:
            x = min(max((math.log(s) - LOWEST) / STEP, 0.0), self.top_s)
            y = min(max((d - 1.0) / D_STEP, 0.0), self.top_d)
            day = self.choices[last][round(x)][round(y)]
            return None if day < 0 else day
        return self._look_ahead(s, d, last, start)

    def _look_ahead(self, s: float, d: float, last: int, start: int) -> int | None:
        memory, horizon = self.model.memory, self.calendar.horizon
        best: int | None = None
        value = self.weight * memory.recall(morning_age(horizon, last), s)
        for day in self.calendar.open:
            if day < start or day <= last:
                continue
            r = memory.recall(day - last, s)
            here = -self.prices[day] * self.model.review_seconds(r)
            for p, s2, d2 in self.model.after_review(s, d, r):
                here += p * self._value(day, s2, d2)
            if here > value + 1e-12:
                best, value = day, here
        return best

    def course(self, s: float, d: float, last: int, start: int, first: int | None = None) -> Course:
        """Follow the policy from this memory: its expected recall, seconds and reviews (the
        first review on day `first`, if given: a card in learning steps)."""
        memory, horizon = self.model.memory, self.calendar.horizon
        seconds: dict[int, float] = {}
        reviews: dict[int, float] = {}
        recall = 0.0
        stack = [(1.0, s, d, last, start)]
        while stack:
            p, s_, d_, last_, start_ = stack.pop()
            if first is not None and last_ == last and start_ == start:
                day: int | None = first
            else:
                day = self.next_review(s_, d_, last_, start_) if p >= PRUNE else None
            if day is None:
                recall += p * memory.recall(morning_age(horizon, last_), s_)
                continue
            r = memory.recall(day - last_, s_)
            seconds[day] = seconds.get(day, 0.0) + p * self.model.review_seconds(r)
            reviews[day] = reviews.get(day, 0.0) + p
            for q, s2, d2 in self.model.after_review(s_, d_, r):
                stack.append((p * q, s2, d2, day, day + 1))
        return Course(
            None, min(1.0, recall), tuple(sorted(seconds.items())), tuple(sorted(reviews.items()))
        )
