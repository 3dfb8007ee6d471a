// Package rollup sums up a build key for the organisation page, from the
// key's newest builds, as the store writes them (store.Roller): the latest
// base-branch build against its usual range, the usual builds' times and
// durations (the week's trend and its sparkline), and the key's advice.
//
// Cost model: a roll-up is made from at most Trusted (12) trusted and
// Other (8) other builds, and holds at most Trusted points and the advice
// those builds support (the evidence caps bound it: a few dozen items at
// most, each a few hundred bytes); about 1 kB for a key without advice.
package rollup
