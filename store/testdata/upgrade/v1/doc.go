// Command gen writes a schema-1 Glimpse database and the search results it
// gives, for store's upgrade test (TestUpgradeV1). It needs package store
// as of commit 603fc65 (schema 1): in a checkout of that commit,
//
//	go run . glimpse.db results.json && gzip -9 glimpse.db
package main
