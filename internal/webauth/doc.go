// Package webauth decides who may read a repository's dashboard pages: the
// holder of a signed link to it, or a person signed in with GitHub (the
// App's OAuth client) whom GitHub's API reports as able to read it.
package webauth
