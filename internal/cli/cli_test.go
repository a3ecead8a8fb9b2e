package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestErrorLine(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"open x: no such file", "prog: open x: no such file"},
		{"prog: already prefixed", "prog: already prefixed"},
		{"program: another word", "prog: program: another word"},
	} {
		if got := ErrorLine("prog", errors.New(tc.err)); got != tc.want {
			t.Errorf("ErrorLine(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestDispatch(t *testing.T) {
	ran := ""
	run := func(name string) RunFunc {
		return func(_ context.Context, args []string, _, stderr io.Writer) error {
			fset := NewFlags(name, "prog "+name+" [--n N] ARG", stderr)
			fset.Int("n", 1, "a number")
			if err := ParseArgs(fset, args, 1, 1, "one ARG", "prog "+name+" [--n N] ARG"); err != nil {
				return err
			}
			ran = name + " " + fset.Arg(0)
			return nil
		}
	}
	p := Program{Name: "prog", Commands: []Command{{Name: "a", Usage: "prog a [--n N] ARG", Summary: "does a", Run: run("a")}},
		Env: []string{EnvData, EnvORTLib}}
	for _, tc := range []struct {
		args    []string
		usage   bool   // a UsageError
		wantRan string // what ran
		wantOut string // in stdout
	}{
		{args: nil, usage: true},
		{args: []string{"zz"}, usage: true},
		{args: []string{"a"}, usage: true},
		{args: []string{"a", "x", "y"}, usage: true},
		{args: []string{"a", "--n", "nope", "x"}, usage: true},
		{args: []string{"a", "--n", "2", "x"}, wantRan: "a x"},
		{args: []string{"a", "-h"}},
		{args: []string{"help"}, wantOut: "prog a [--n N] ARG"},
		{args: []string{"--help"}, wantOut: EnvORTLib},
	} {
		ran = ""
		var out, errOut bytes.Buffer
		err := p.Dispatch(context.Background(), tc.args, &out, &errOut)
		var ue *UsageError
		if errors.As(err, &ue) != tc.usage || (!tc.usage && err != nil) {
			t.Errorf("%q: err %v, want usage error %v", tc.args, err, tc.usage)
		}
		if ran != tc.wantRan || !strings.Contains(out.String(), tc.wantOut) {
			t.Errorf("%q: ran %q, stdout %q; want %q, %q", tc.args, ran, out.String(), tc.wantRan, tc.wantOut)
		}
	}
}

func TestDataDirAndListFlag(t *testing.T) {
	t.Setenv(EnvData, "")
	if got := DataDir(""); got != "glimpse-data" {
		t.Errorf("DataDir without env = %q", got)
	}
	t.Setenv(EnvData, "/env/dir")
	if got := DataDir(""); got != "/env/dir" {
		t.Errorf("DataDir from env = %q", got)
	}
	if got := DataDir("/flag"); got != "/flag" {
		t.Errorf("DataDir with flag = %q", got)
	}
	fset := flag.NewFlagSet("x", flag.ContinueOnError)
	var l ListFlag
	fset.Var(&l, "v", "")
	if err := fset.Parse([]string{"-v", "a, b", "-v", "c", "-v", ","}); err != nil {
		t.Fatal(err)
	}
	if l.String() != "a,b,c" {
		t.Errorf("ListFlag = %q", l.String())
	}
}

func TestModelFlagsValidate(t *testing.T) {
	for _, tc := range []struct {
		m  ModelFlags
		ok bool
	}{
		{ModelFlags{Device: "cpu"}, true},
		{ModelFlags{Device: "cuda", Threads: 2}, true},
		{ModelFlags{Device: "tpu"}, false},
		{ModelFlags{Device: "cpu", Threads: -1}, false},
	} {
		err := tc.m.Validate()
		var ue *UsageError
		if (err == nil) != tc.ok || (err != nil && !errors.As(err, &ue)) {
			t.Errorf("%+v: %v", tc.m, err)
		}
	}
	if _, err := OpenBundle(t.TempDir()); err == nil {
		t.Error("a folder without model.json opened as a bundle")
	}
	b, err := OpenBundle("")
	if err != nil || b.Info.Name == "" || len(b.Info.BundleHash) != 64 {
		t.Errorf("embedded bundle: %+v %v", b, err)
	}
}
