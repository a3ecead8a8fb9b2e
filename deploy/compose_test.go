package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose is the part of the Compose file format the tests read.
type compose struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Build       any               `yaml:"build"`
	Image       string            `yaml:"image"`
	Profiles    []string          `yaml:"profiles"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []mount           `yaml:"volumes"`
	Environment map[string]string `yaml:"environment"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Deploy struct {
		Resources struct {
			Reservations struct {
				Devices []struct {
					Driver       string   `yaml:"driver"`
					Count        any      `yaml:"count"`
					Capabilities []string `yaml:"capabilities"`
				} `yaml:"devices"`
			} `yaml:"reservations"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
}

// mount is a volume of a service, from the short ("src:dst[:ro]") or the long syntax.
type mount struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
}

func (m *mount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		type plain mount
		return n.Decode((*plain)(m))
	}
	parts := strings.Split(n.Value, ":")
	m.Source, m.Target = parts[0], parts[len(parts)-1]
	if len(parts) == 3 {
		m.Target = parts[1]
		m.ReadOnly = slices.Contains(strings.Split(parts[2], ","), "ro")
	}
	m.Type = "volume"
	if strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "$") {
		m.Type = "bind"
	}
	return nil
}

func readCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// defaultOf resolves a ${VAR:-default} reference to its default.
func defaultOf(s string) string {
	return regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(s, "$1")
}

func TestCompose(t *testing.T) {
	c := readCompose(t)
	if _, ok := c.Volumes["glimpse-data"]; !ok {
		t.Error("no named volume glimpse-data")
	}
	tests := []struct {
		name     string
		profiles []string
		gpu      bool
	}{
		{name: "glimpse"},
		{name: "glimpse-gpu", profiles: []string{"gpu"}, gpu: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := c.Services[tc.name]
			if !ok {
				t.Fatalf("no service %s", tc.name)
			}
			if !slices.Equal(s.Profiles, tc.profiles) {
				t.Errorf("profiles %q, want %q", s.Profiles, tc.profiles)
			}
			if s.Build == nil || s.Image == "" {
				t.Error("want build (the Dockerfile) and an image name")
			}
			if len(s.Ports) != 1 {
				t.Fatalf("ports %q, want one", s.Ports)
			}
			port := strings.Split(defaultOf(s.Ports[0]), ":")
			if len(port) != 3 || port[0] != "127.0.0.1" || port[2] != "8080" {
				t.Errorf("port %q: want HOST_IP:HOST_PORT:8080, bound to 127.0.0.1 by default", s.Ports[0])
			}
			var data, photos *mount
			for i, m := range s.Volumes {
				switch m.Target {
				case "/data":
					data = &s.Volumes[i]
				case "/photos":
					photos = &s.Volumes[i]
				}
			}
			switch {
			case data == nil:
				t.Error("no volume at /data")
			case data.Type != "volume" || data.Source != "glimpse-data" || data.ReadOnly:
				t.Errorf("/data is %+v, want the writable named volume glimpse-data", *data)
			}
			switch {
			case photos == nil:
				t.Error("no volume at /photos")
			case photos.Type != "bind" || !photos.ReadOnly:
				t.Errorf("/photos is %+v, want a read-only bind mount", *photos)
			}
			if hc := strings.Join(s.Healthcheck.Test, " "); !strings.Contains(hc, "http://127.0.0.1:8080/healthz") {
				t.Errorf("healthcheck %q, want /healthz", hc)
			}
			if s.Environment["GLIMPSE_DATA"] != "/data" {
				t.Errorf("GLIMPSE_DATA %q", s.Environment["GLIMPSE_DATA"])
			}
			devs := s.Deploy.Resources.Reservations.Devices
			cuda := slices.Equal(s.Command, []string{"--device", "cuda"})
			if !tc.gpu {
				if len(devs) > 0 || cuda {
					t.Errorf("the default service reserves %d devices, command %q", len(devs), s.Command)
				}
				return
			}
			if len(devs) != 1 || devs[0].Driver != "nvidia" || devs[0].Count != 1 || !slices.Equal(devs[0].Capabilities, []string{"gpu"}) {
				t.Errorf("GPU reservation %+v, want [{driver: nvidia, count: 1, capabilities: [gpu]}]", devs)
			}
			if !cuda {
				t.Errorf("command %q, want --device cuda", s.Command)
			}
		})
	}
}

// TestServerFlags checks that the flags the image and the compose file pass to the server are
// flags cmd/server defines (itself or through internal/cli).
func TestServerFlags(t *testing.T) {
	_, stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	var args []string
	for _, e := range stages[len(stages)-1].all("ENTRYPOINT") {
		args = append(args, regexp.MustCompile(`"([^"]*)"`).FindAllString(e, -1)...)
	}
	for _, s := range readCompose(t).Services {
		args = append(args, s.Command...)
	}
	src, err := filepath.Glob(filepath.Join("..", "cmd", "server", "*.go"))
	if err != nil || len(src) == 0 {
		t.Fatalf("no cmd/server sources (%v)", err)
	}
	shared, _ := filepath.Glob(filepath.Join("..", "internal", "cli", "*.go")) // --model, --device, --store
	src = append(src, shared...)
	var code strings.Builder
	for _, f := range src {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	for _, a := range args {
		a = strings.Trim(a, `"`)
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if !strings.Contains(code.String(), `"`+name+`"`) {
			t.Errorf("flag --%s is not defined by cmd/server", name)
		}
	}
}
