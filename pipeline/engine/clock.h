/* Monotonic wall time for durations and timeouts. */
#ifndef SPINEPIPE_CLOCK_H
#define SPINEPIPE_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (differences only: the origin is arbitrary). */
double sp_now_seconds(void);

#endif
