package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
)

// listed is one line of `models list`.
type listed struct {
	Name      string `json:"name"`
	State     string `json:"state"` // "embedded", "installed" or "available"
	Family    string `json:"family"`
	Precision string `json:"precision,omitempty"` // installed ones
	Rerank    bool   `json:"rerank"`              // an ITM head reranks (installed ones and the embedded)
	Bytes     int64  `json:"bytes,omitempty"`     // installed ones
	Licence   string `json:"licence,omitempty"`
	Source    string `json:"source,omitempty"` // hub:owner/name@revision
	Dir       string `json:"dir,omitempty"`
	Error     string `json:"error,omitempty"` // an installed bundle whose manifest does not parse
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("list", usageList, stderr)
	asJSON := fset.Bool("json", false, "print the list as JSON")
	if err := cli.ParseNoArgs(fset, args); err != nil {
		return err
	}
	store := cli.ModelStore()
	installed, err := store.List()
	if err != nil {
		return err
	}
	out := []listed{{Name: models.DefaultName, State: "embedded", Family: models.DefaultName, Precision: "fp32", Rerank: true,
		Licence: "Apache-2.0"}}
	have := map[string]bool{}
	for _, in := range installed {
		l := listed{Name: in.Name, State: "installed", Family: in.Family, Precision: in.Precision, Rerank: in.ITM,
			Bytes: in.Bytes, Dir: in.Dir}
		if in.Err != nil {
			l.Error = in.Err.Error()
		}
		if e, ok := models.Lookup(in.Name); ok {
			l.Licence, l.Source = e.Licence, source(e)
		}
		have[in.Name] = true
		out = append(out, l)
	}
	for _, e := range models.Catalog() {
		if !have[e.Name] {
			out = append(out, listed{Name: e.Name, State: "available", Family: e.Family, Licence: e.Licence, Source: source(e)})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Store  string   `json:"store"`
			Models []listed `json:"models"`
		}{store.Dir, out})
	}
	fmt.Fprintf(stdout, "model store: %s\n\n", store.Dir)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tFAMILY\tPRECISION\tRERANK\tSIZE\tLICENCE\tSOURCE\t")
	for _, l := range out {
		size, rerank, prec := "-", "-", l.Precision
		if l.Bytes > 0 {
			size = fmt.Sprintf("%.0f MB", float64(l.Bytes)/1e6)
		}
		if l.State != "available" {
			rerank = map[bool]string{true: "yes", false: "no"}[l.Rerank]
		}
		if prec == "" {
			prec = "-"
		}
		if l.Error != "" {
			prec = "broken: " + l.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, l.State, l.Family, prec, rerank, size, l.Licence, l.Source)
	}
	return tw.Flush()
}

// source names where an entry comes from: hub:owner/name@revision.
func source(e models.Entry) string {
	return e.Source.Hub + ":" + e.Source.Repo + "@" + e.Source.Revision
}
