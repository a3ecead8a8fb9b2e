package encoder

import (
	"fmt"
	"slices"

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
	name    string // the contract's name
	tensor  string // the graph's name (Graph.Names; the contract's when empty)
	dtype   ort.TensorElementDataType
	int32OK bool // an int64 input the graph may take as int32 (token ids and masks)
	dims    []dim
}

// tensorName is the graph's name of the port.
func (p port) tensorName() string {
	if p.tensor != "" {
		return p.tensor
	}
	return p.name
}

// session is one ONNX graph, created once. ORT sessions are safe for concurrent Run calls and
// DynamicAdvancedSession keeps no per-run state (it binds the tensors given to each Run), so a
// session is safe for concurrent use.
type session struct {
	graph   string
	s       *ort.DynamicAdvancedSession
	inputs  []string        // contract names, in run order
	outputs []string        // contract names, in run order
	int32   map[string]bool // inputs the graph takes as int32 instead of int64
}

// has reports whether the graph takes or gives the contract tensor name.
func (s *session) has(name string) bool {
	return slices.Contains(s.inputs, name) || slices.Contains(s.outputs, name)
}

// newSession checks the graph's declared inputs and outputs against want (names, element
// types, fixed dimensions; a fixed batch axis must be the manifest's graphs.X.batch) and creates
// the session. The manifest field named in a dimension
// mismatch is the one to fix.
func newSession(graph string, file string, data []byte, batch int, in, out []port, so *ort.SessionOptions) (*session, error) {
	gotIn, gotOut, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%w: graphs.%s.file %s: not a loadable ONNX graph: %v", ErrBadBundle, graph, file, err)
	}
	for _, g := range gotIn { // a graph exported without a dynamic batch axis runs that many items at once
		if len(g.Dimensions) > 0 && g.Dimensions[0] > 0 && g.Dimensions[0] != int64(batch) {
			return nil, fmt.Errorf("%w: graphs.%s.batch: %s takes a fixed batch of %d (input %q); the manifest says %d",
				ErrBadBundle, graph, file, g.Dimensions[0], g.Name, batch)
		}
	}
	if err := checkPorts(graph, file, "input", gotIn, in); err != nil {
		return nil, err
	}
	if err := checkPorts(graph, file, "output", gotOut, out); err != nil {
		return nil, err
	}
	s := &session{graph: graph, inputs: names(in), outputs: names(out), int32: map[string]bool{}}
	for _, p := range in {
		for _, g := range gotIn {
			if g.Name == p.tensorName() && g.DataType == ort.TensorElementDataTypeInt32 {
				s.int32[p.name] = true
			}
		}
	}
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, tensorNames(in), tensorNames(out), so)
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

func tensorNames(ps []port) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.tensorName()
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
		g, ok := byName[w.tensorName()]
		if !ok {
			return fmt.Errorf("%w: graphs.%s.%ss: %s has no %s %q", ErrBadBundle, graph, kind, file, kind, w.tensorName())
		}
		okType := g.DataType == w.dtype || w.int32OK && g.DataType == ort.TensorElementDataTypeInt32
		if g.OrtValueType != ort.ONNXTypeTensor || !okType {
			return fmt.Errorf("%w: graphs.%s: %s %q of %s is %s, want a %s tensor", ErrBadBundle, graph, kind,
				w.tensorName(), file, g.DataType, w.dtype)
		}
		if len(g.Dimensions) != len(w.dims) {
			return fmt.Errorf("%w: graphs.%s: %s %q of %s has shape %v, want rank %d", ErrBadBundle, graph, kind,
				w.name, file, g.Dimensions, len(w.dims))
		}
		for i, d := range w.dims {
			if gd := g.Dimensions[i]; d.v != 0 && gd > 0 && gd != d.v {
				return fmt.Errorf("%w: %s: manifest says %d but %s %s %q has %d at axis %d (shape %v)", ErrBadBundle,
					d.field, d.v, file, kind, w.tensorName(), gd, i, g.Dimensions)
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

// TensorInfo describes one input or output of an ONNX graph, as InspectGraph reads it.
type TensorInfo struct {
	Name  string
	Type  string  // the element type: "float32", "int32", "int64", or ONNX Runtime's name of another
	Shape []int64 // -1 for a dynamic axis
}

// InspectGraph reads the declared inputs and outputs of an ONNX graph (initialising ONNX
// Runtime from libraryPath, or from the usual places when empty), for tools that write a
// manifest for a graph made elsewhere.
func InspectGraph(data []byte, libraryPath string) (in, out []TensorInfo, err error) {
	if err := initRuntime(libraryPath); err != nil {
		return nil, nil, err
	}
	gotIn, gotOut, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not a loadable ONNX graph: %v", ErrBadBundle, err)
	}
	conv := func(infos []ort.InputOutputInfo) []TensorInfo {
		out := make([]TensorInfo, len(infos))
		for i, g := range infos {
			typ := g.DataType.String()
			switch g.DataType {
			case ort.TensorElementDataTypeFloat:
				typ = "float32"
			case ort.TensorElementDataTypeInt32:
				typ = "int32"
			case ort.TensorElementDataTypeInt64:
				typ = "int64"
			}
			out[i] = TensorInfo{Name: g.Name, Type: typ, Shape: slices.Clone([]int64(g.Dimensions))}
		}
		return out
	}
	return conv(gotIn), conv(gotOut), nil
}
