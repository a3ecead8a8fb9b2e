// Package instance is a running Glimpse: an open data dir (its write lock held), the model and
// the web server over them, as the server binary and the load generator start one.
package instance
