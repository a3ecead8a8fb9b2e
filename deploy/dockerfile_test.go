package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY...
	args string
	line int
}

// stage is one FROM block of a Dockerfile.
type stage struct {
	from, name string
	ins        []instruction
}

// parseDockerfile splits a Dockerfile into its global ARGs and its stages. It knows what the
// tests need: comments, line continuations and FROM ... AS name; no heredocs.
func parseDockerfile(t *testing.T, path string) (args []instruction, stages []*stage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur strings.Builder
	start := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, rest, _ := strings.Cut(cur.String(), " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(rest), " "), line: start}
		cur.Reset()
		switch {
		case in.cmd == "FROM":
			from, name, _ := strings.Cut(in.args, " ")
			_, name, _ = strings.Cut(strings.ToLower(name), "as ")
			stages = append(stages, &stage{from: from, name: strings.TrimSpace(name)})
		case len(stages) == 0:
			args = append(args, in)
		default:
			s := stages[len(stages)-1]
			s.ins = append(s.ins, in)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return args, stages
}

// all returns the arguments of the stage's instructions named cmd.
func (s *stage) all(cmd string) []string {
	var out []string
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// has reports whether an instruction named cmd has arguments matching re.
func (s *stage) has(cmd, re string) bool {
	r := regexp.MustCompile(re)
	return slices.ContainsFunc(s.all(cmd), r.MatchString)
}

func TestDockerfile(t *testing.T) {
	args, stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, rt := stages[0], stages[1]

	goVersion := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a.args, "GO_VERSION="); ok {
			goVersion = v
		}
	}
	goMod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod); m == nil || string(m[1]) != goVersion {
		t.Errorf("ARG GO_VERSION=%s, go.mod says %q", goVersion, m)
	}

	checks := []struct {
		name string
		ok   bool
	}{
		{"build stage is golang:${GO_VERSION}-bookworm AS build", build.from == "golang:${GO_VERSION}-bookworm" && build.name == "build"},
		{"build stage installs libturbojpeg0-dev and libheif-dev", build.has("RUN", `apt-get install .*libturbojpeg0-dev`) && build.has("RUN", `libheif-dev`)},
		{"build stage fetches ONNX Runtime with scripts/setup-ort.sh", build.has("RUN", `scripts/setup-ort\.sh`)},
		{"build stage installs npm for setup-ort.sh", build.has("RUN", `apt-get install .*\bnpm\b`)},
		{"build stage builds cmd/server and cmd/indexer with cgo", build.has("RUN", `CGO_ENABLED=1 go build .*\./cmd/server .*\./cmd/indexer`)},
		{"runtime stage is debian:bookworm-slim", rt.from == "debian:bookworm-slim"},
		{"runtime stage installs libturbojpeg0, libheif1, ca-certificates", rt.has("RUN", `apt-get install .*libturbojpeg0 libheif1 ca-certificates`)},
		{"runtime stage copies libonnxruntime.so.1 to /usr/local/lib", rt.has("COPY", `^--from=build \S*libonnxruntime\.so\.1 /usr/local/lib/libonnxruntime\.so\.1$`)},
		{"GLIMPSE_ORT_LIB names the copied library", rt.has("ENV", `GLIMPSE_ORT_LIB=/usr/local/lib/libonnxruntime\.so\.1\b`)},
		{"runtime stage copies server and indexer", rt.has("COPY", `^--from=build /out/server /out/indexer /usr/local/bin/$`)},
		{"runs as a non-root user", rt.has("USER", `^glimpse`) && rt.has("RUN", `useradd --system`)},
		{"data volume /data, owned by that user", rt.has("VOLUME", `^/data$`) && rt.has("RUN", `chown glimpse:glimpse /data`)},
		{"GLIMPSE_DATA=/data", rt.has("ENV", `GLIMPSE_DATA=/data\b`)},
		{"EXPOSE 8080", rt.has("EXPOSE", `^8080$`)},
		{"HEALTHCHECK on /healthz", rt.has("HEALTHCHECK", `CMD .*http://127\.0\.0\.1:8080/healthz`)},
		{"curl for the health check", rt.has("RUN", `apt-get install .*\bcurl\b`)},
		{"server listens on 0.0.0.0:8080 over /data", rt.has("ENTRYPOINT", `^\["server", "--addr", "0\.0\.0\.0:8080", "--data", "/data"\]$`)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("Dockerfile: want %s", c.name)
		}
	}
	if t.Failed() {
		t.Logf("build stage: %+v\nruntime stage: %+v", build.ins, rt.ins)
	}
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	for _, want := range []string{".git", "build/", "bin/", ".cache/*", "!.cache/onnxruntime-1.30.0/libonnxruntime.so.1"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	// What the build needs must stay in the context.
	for _, need := range []string{"go.mod", "go.sum", "models", "scripts", "web", "cmd"} {
		for _, l := range lines {
			if ok, _ := filepath.Match(strings.TrimSuffix(l, "/"), need); ok {
				t.Errorf(".dockerignore line %q leaves %s out of the build context", l, need)
			}
		}
	}
}
