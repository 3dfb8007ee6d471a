// Package links signs and checks the expiring links check runs carry to the
// App's dashboard: an HMAC over a repository id and an expiry time, so one
// link lets its reader browse that repository's pages until it expires.
package links
