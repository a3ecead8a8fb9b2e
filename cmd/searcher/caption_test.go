package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/searcher"
)

func TestCaption(t *testing.T) {
	l := testLib(t)
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

// The default --min-score (the bundle's match threshold, 0.5) applies to the texts; 0 turns it
// off; the help says both.
func TestCaptionThreshold(t *testing.T) {
	l := testLib(t)
	var off searcher.TextResult
	runJSON(t, &off, "caption", "--data", l.data, "--image", l.files[2], "--min-score", "0", "--limit", "1000")
	if off.Total != 60 || off.MinScore == nil || *off.MinScore != 0 || off.NoConfidentMatch {
		t.Fatalf("--min-score 0: total %d, min score %v, no_confident_match %v", off.Total, off.MinScore, off.NoConfidentMatch)
	}
	over := 0
	for _, h := range off.Hits {
		if *h.PMatch >= searcher.DefaultMinScore {
			over++
		}
	}
	if over == off.Total {
		t.Fatal("every caption scores over the default threshold: the test cannot tell it applies")
	}
	var def searcher.TextResult
	runJSON(t, &def, "caption", "--data", l.data, "--image", l.files[2], "--limit", "1000")
	if def.MinScore == nil || *def.MinScore != searcher.DefaultMinScore || def.Total != over || len(def.Hits) != over {
		t.Fatalf("default: min score %v, total %d, %d hits; want %v and the %d captions over it", def.MinScore, def.Total,
			len(def.Hits), searcher.DefaultMinScore, over)
	}
	for _, h := range def.Hits {
		if *h.PMatch < *def.MinScore {
			t.Fatalf("hit %+v under the threshold", h)
		}
	}
	var none searcher.TextResult
	runJSON(t, &none, "caption", "--data", l.data, "--image", l.files[2], "--min-score", "1")
	if len(none.Hits) != 0 || !none.NoConfidentMatch || !strings.HasPrefix(none.Reason, searcher.ReasonNoConfident) {
		t.Fatalf("--min-score 1: %d hits, no_confident_match %v, reason %q", len(none.Hits), none.NoConfidentMatch, none.Reason)
	}
	// the text output keeps the whole source in --json and says why nothing is shown
	var out bytes.Buffer
	if err := Run(t.Context(), []string{"caption", "--data", l.data, "--image", l.files[2], "--min-score", "1"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no results: "+searcher.ReasonNoConfident) {
		t.Fatalf("text output %q", out.String())
	}
	if !strings.HasPrefix(off.Hits[0].Source, "captions:") {
		t.Fatalf("source %q", off.Hits[0].Source)
	}

	var help, errOut bytes.Buffer
	if err := Run(t.Context(), []string{"caption", "-h"}, &help, &errOut); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"-min-score", "a text for caption", "0 turns the threshold off", "0.5"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("caption -h does not say %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(program.Help(), "texts under --min-score left out") {
		t.Error("the command list does not say caption applies --min-score")
	}
}
