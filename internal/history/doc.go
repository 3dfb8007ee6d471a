// Package history is the one view of a build key's past that both the
// check run and the dashboard judge a build by: which builds are a
// branch's usual ones (Usual), how many of them are compared
// (DefaultWindow) and the verdict against them (Judge). The store keeps
// builds and selects them as told; package verdict does the arithmetic;
// this package says which builds count.
package history
