// Package units writes durations and byte counts the one way every
// stageline renderer shows them (check run, job summary, terminal text,
// dashboard): a number, a space, a unit ("850 ms", "3.2 s", "1 min 12 s",
// "12.4 MB").
package units
