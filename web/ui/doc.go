// Package ui is Glimpse's browser interface: plain HTML, CSS and JavaScript (no build step, no
// framework, nothing fetched from a CDN), embedded in the server binary.
//
// FS holds the files with index.html at its top; the server serves it at "/" next to the REST
// API under /api/v1, which the page calls. The page searches by text (the query is kept in the
// URL as ?q= so searches are shareable and the back button works), by an uploaded or dropped
// image (similar images, or the indexed texts that match it), filters by capture date and
// folder, pages with infinite scroll, states "no confident match" honestly, and shows a photo's
// original, metadata and explain heat map in a dialog.
//
// The tests drive the page in a real headless Chromium against the real server (cmd/server);
// they skip only when no Chromium binary is found. Screenshots go to $GLIMPSE_ARTIFACTS.
package ui
