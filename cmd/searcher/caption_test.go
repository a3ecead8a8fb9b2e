package main

import (
	"testing"

	"github.com/glimpse-search/glimpse/searcher"
)

func TestCaption(t *testing.T) {
	l := library(t)
	var res searcher.TextResult
	runJSON(t, &res, "caption", "--data", l.data, "--image", l.files[2], "--min-score", "0", "--limit", "1000")
	if len(res.Hits) != 60 || res.Reranked != 60 {
		t.Fatalf("%d hits, %d reranked; want the 60 captions", len(res.Hits), res.Reranked)
	}
	var byID searcher.TextResult
	runJSON(t, &byID, "caption", "--data", l.data, "--id", "1", "--k", "5", "--min-score", "0", "--limit", "5",
		"--rank", "itm+itc")
	if len(byID.Hits) != 5 || byID.Rank != searcher.RankITMITC {
		t.Fatalf("by id: %d hits, rank %s", len(byID.Hits), byID.Rank)
	}
	for _, h := range byID.Hits {
		if h.Text == "" || h.PMatch == nil {
			t.Fatalf("hit %+v", h)
		}
	}
}
