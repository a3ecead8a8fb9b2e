package encoder

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// dim is one expected tensor dimension: a value (any when 0, the dynamic batch and length axes)
// and the manifest field it comes from, for error messages.
type dim struct {
	v     int64
	field string
}

// port is one expected graph input or output.
type port struct {
	name  string
	dtype ort.TensorElementDataType
	dims  []dim
}

// session is one ONNX graph, created once. ORT sessions are safe for concurrent Run calls and
// DynamicAdvancedSession keeps no per-run state (it binds the tensors given to each Run), so a
// session is safe for concurrent use.
type session struct {
	graph   string
	s       *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

// newSession checks the graph's declared inputs and outputs against want (names, element
// types, fixed dimensions) and creates the session. The manifest field named in a dimension
// mismatch is the one to fix.
func newSession(graph string, file string, data []byte, in, out []port, so *ort.SessionOptions) (*session, error) {
	gotIn, gotOut, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%w: graphs.%s.file %s: not a loadable ONNX graph: %v", ErrBadBundle, graph, file, err)
	}
	if err := checkPorts(graph, file, "input", gotIn, in); err != nil {
		return nil, err
	}
	if err := checkPorts(graph, file, "output", gotOut, out); err != nil {
		return nil, err
	}
	s := &session{graph: graph, inputs: names(in), outputs: names(out)}
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, s.inputs, s.outputs, so)
	if err != nil {
		return nil, fmt.Errorf("%w: create %s session from %s: %v", ErrRuntime, graph, file, err)
	}
	return s, nil
}

func names(ps []port) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.name
	}
	return out
}

func checkPorts(graph, file, kind string, got []ort.InputOutputInfo, want []port) error {
	byName := make(map[string]ort.InputOutputInfo, len(got))
	for _, g := range got {
		byName[g.Name] = g
	}
	if kind == "input" && len(got) != len(want) {
		return fmt.Errorf("%w: graphs.%s.inputs: %s has %d inputs, the contract %d", ErrBadBundle, graph, file, len(got), len(want))
	}
	for _, w := range want {
		g, ok := byName[w.name]
		if !ok {
			return fmt.Errorf("%w: graphs.%s.%ss: %s has no %s %q", ErrBadBundle, graph, kind, file, kind, w.name)
		}
		if g.OrtValueType != ort.ONNXTypeTensor || g.DataType != w.dtype {
			return fmt.Errorf("%w: graphs.%s: %s %q of %s is %s, want a %s tensor", ErrBadBundle, graph, kind, w.name,
				file, g.DataType, w.dtype)
		}
		if len(g.Dimensions) != len(w.dims) {
			return fmt.Errorf("%w: graphs.%s: %s %q of %s has shape %v, want rank %d", ErrBadBundle, graph, kind,
				w.name, file, g.Dimensions, len(w.dims))
		}
		for i, d := range w.dims {
			if gd := g.Dimensions[i]; d.v != 0 && gd > 0 && gd != d.v {
				return fmt.Errorf("%w: %s: manifest says %d but %s %s %q has %d at axis %d (shape %v)", ErrBadBundle,
					d.field, d.v, file, kind, w.name, gd, i, g.Dimensions)
			}
		}
	}
	return nil
}

// run runs the session on inputs, writing into the preallocated outputs (Go-backed, so the
// results need no further copy). It destroys every tensor it is given, whatever happens.
func (s *session) run(inputs, outputs []ort.Value) error {
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
		for _, v := range outputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := s.s.Run(inputs, outputs); err != nil {
		return fmt.Errorf("run %s graph: %w", s.graph, err)
	}
	return nil
}

func (s *session) close() error {
	if s == nil || s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// tensors creates ORT tensors over Go slices. On error every tensor made so far is destroyed.
type tensors struct {
	vals []ort.Value
	err  error
}

func addTensor[T ort.TensorData](ts *tensors, data []T, shape ...int64) {
	if ts.err != nil {
		return
	}
	t, err := ort.NewTensor(ort.NewShape(shape...), data)
	if err != nil {
		ts.err = fmt.Errorf("%w: tensor %v: %v", ErrRuntime, shape, err)
		return
	}
	ts.vals = append(ts.vals, t)
}

func (ts *tensors) done() ([]ort.Value, error) {
	if ts.err != nil {
		for _, v := range ts.vals {
			v.Destroy()
		}
		return nil, ts.err
	}
	return ts.vals, nil
}

// runGraph builds input and output tensors over the given slices, runs s and destroys them.
func runGraph(s *session, in, out *tensors) error {
	ins, err := in.done()
	if err != nil {
		if outs, _ := out.done(); outs != nil {
			for _, v := range outs {
				v.Destroy()
			}
		}
		return err
	}
	outs, err := out.done()
	if err != nil {
		for _, v := range ins {
			v.Destroy()
		}
		return err
	}
	return s.run(ins, outs)
}
