package modelbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Model is one model's figures, its phases merged.
type Model struct {
	Model        string           `json:"model"`
	Family       string           `json:"family"`
	ITM          bool             `json:"itm"`
	EmbeddingDim int              `json:"embedding_dim"`
	ImageSize    int              `json:"image_size"`
	ImageTokens  int              `json:"image_tokens"`
	TokenWidth   int              `json:"token_width"`
	GraphBytes   map[string]int64 `json:"graph_bytes"`
	Parameters   json.RawMessage  `json:"parameters,omitempty"`
	Memory       *Memory          `json:"memory,omitempty"`
	Throughput   *Throughput      `json:"throughput,omitempty"`
	// LoadAverage is the machine's 1-minute load average at the start and end of each phase.
	LoadAverage map[string][2]float64 `json:"load_average"`
}

// Merge groups phase results by model, in first-seen order.
func Merge(rs []Result) []Model {
	var out []Model
	for _, r := range rs {
		i := slices.IndexFunc(out, func(m Model) bool { return m.Model == r.Model })
		if i < 0 {
			out = append(out, Model{Model: r.Model, Family: r.Family, ITM: r.ITM, EmbeddingDim: r.EmbeddingDim,
				ImageSize: r.ImageSize, ImageTokens: r.ImageTokens, TokenWidth: r.TokenWidth,
				GraphBytes: r.GraphBytes, Parameters: r.Parameters, LoadAverage: map[string][2]float64{}})
			i = len(out) - 1
		}
		out[i].LoadAverage[r.Phase] = r.LoadAverage
		if r.Memory != nil {
			out[i].Memory = r.Memory
		}
		if r.Throughput != nil {
			out[i].Throughput = r.Throughput
		}
	}
	return out
}

// TotalParameters is the manifest's parameters.total, or 0.
func (m Model) TotalParameters() int64 {
	var p struct {
		Total int64 `json:"total"`
	}
	if len(m.Parameters) == 0 || json.Unmarshal(m.Parameters, &p) != nil {
		return 0
	}
	return p.Total
}

// WriteTable prints the models' figures: throughput by the wall clock, CPU time per item,
// resident memory, and the stages of the end-to-end query.
func WriteTable(w io.Writer, ms []Model) error {
	var ks, batches []string
	for _, m := range ms {
		if m.Throughput == nil {
			continue
		}
		for k := range m.Throughput.Query {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
		for b := range m.Throughput.VisionImagesPerS {
			if !slices.Contains(batches, b) {
				batches = append(batches, b)
			}
		}
	}
	slices.SortFunc(ks, byNumber("k"))
	slices.SortFunc(batches, byNumber("batch"))
	num := func(key, prefix string) string { return strings.TrimPrefix(key, prefix) }

	t := newTable(w)
	head := []string{"THROUGHPUT (wall clock)", "PARAMS", "GRAPHS MB", "N x C"}
	for _, b := range batches {
		head = append(head, "IMG/S b"+num(b, "batch"))
	}
	head = append(head, "TEXT Q/S", "ITM PAIRS/S")
	for _, k := range ks {
		head = append(head, "QUERY K="+num(k, "k")+" ms")
	}
	t.row(head...)
	for _, m := range ms {
		var total int64
		for _, b := range m.GraphBytes {
			total += b
		}
		row := []string{m.Model, millions(m.TotalParameters()), fmt.Sprintf("%.0f", float64(total)/(1<<20)),
			fmt.Sprintf("%d x %d", m.ImageTokens, m.TokenWidth)}
		th := m.Throughput
		for _, b := range batches {
			row = append(row, cell(th != nil, func() float64 { return th.VisionImagesPerS[b] }))
		}
		row = append(row, cell(th != nil, func() float64 { return th.TextQueriesPerS }))
		if th != nil && th.ITMPairsPerS > 0 {
			row = append(row, fmt.Sprintf("%s (b%d)", sig(th.ITMPairsPerS), th.ITMBatch))
		} else {
			row = append(row, "- (no ITM)")
		}
		for _, k := range ks {
			row = append(row, cell(th != nil, func() float64 { return th.Query[k].TotalMS }))
		}
		t.row(row...)
	}
	t.blank()

	head = []string{"CPU TIME PER ITEM (all threads)"}
	for _, b := range batches {
		head = append(head, "s/IMG b"+num(b, "batch"))
	}
	head = append(head, "ms/TEXT", "ms/ITM PAIR")
	for _, k := range ks {
		head = append(head, "ms/QUERY K="+num(k, "k"))
	}
	t.row(head...)
	for _, m := range ms {
		th := m.Throughput
		if th == nil {
			continue
		}
		row := []string{m.Model}
		for _, b := range batches {
			row = append(row, sig(th.VisionCPUSPerImage[b]))
		}
		row = append(row, sig(th.TextCPUMSPerQuery), cell(th.ITMPairsPerS > 0, func() float64 { return th.ITMCPUMSPerPair }))
		for _, k := range ks {
			row = append(row, sig(th.Query[k].CPUMS))
		}
		t.row(row...)
	}
	t.blank()

	t.row("MEMORY (MiB, resident)", "START", "LOAD PEAK", "OPEN", "+VISION", "+TEXT", "+INDEX", "+QUERY", "END", "PEAK",
		"QUERY K")
	for _, m := range ms {
		mem := m.Memory
		if mem == nil {
			continue
		}
		g := mem.RunGrowthMB
		t.row(m.Model, sig(mem.StartMB), sig(mem.LoadPeakMB), sig(mem.OpenMB), sig(g["vision"]), sig(g["text"]),
			sig(g["index"]), sig(g["query"]), sig(mem.EndMB), sig(mem.PeakMB), fmt.Sprint(mem.QueryK))
	}
	t.blank()

	t.row("QUERY STAGES (median, ms)", "K", "RERANKED", "tokenize", "text_encode", "ann", "fetch", "rerank", "total")
	for _, m := range ms {
		if m.Throughput == nil {
			continue
		}
		for _, k := range ks {
			q, ok := m.Throughput.Query[k]
			if !ok {
				continue
			}
			tm := q.Timings
			t.row(m.Model, fmt.Sprint(q.K), fmt.Sprint(q.Reranked), sig(tm.Tokenize), sig(tm.TextEncode), sig(tm.ANN),
				sig(tm.Fetch), sig(tm.Rerank), sig(tm.Total))
		}
	}
	return t.flush()
}

// table is a tabwriter that remembers its first error.
type table struct {
	w   io.Writer
	tw  *tabwriter.Writer
	err error
}

func newTable(w io.Writer) *table { return &table{w: w, tw: tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)} }

func (t *table) row(cells ...string) {
	if t.err == nil {
		_, t.err = fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t")
	}
}

// blank ends a table (its columns are aligned on their own) with an empty line.
func (t *table) blank() {
	if t.err == nil {
		t.err = t.tw.Flush()
	}
	if t.err == nil {
		_, t.err = fmt.Fprintln(t.w)
	}
}

func (t *table) flush() error {
	if t.err == nil {
		t.err = t.tw.Flush()
	}
	return t.err
}

func byNumber(prefix string) func(a, b string) int {
	return func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(a, prefix))
		y, _ := strconv.Atoi(strings.TrimPrefix(b, prefix))
		return x - y
	}
}

func cell(ok bool, v func() float64) string {
	if !ok {
		return "-"
	}
	return sig(v())
}

// sig formats v with 3 significant digits, without an exponent below 1e6.
func sig(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(round(v, 3), 'f', -1, 64)
	return s
}

func millions(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fM", float64(n)/1e6)
}

// round rounds v to sig significant digits.
func round(v float64, sig int) float64 {
	if v == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', sig, 64), 64)
	return f
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
