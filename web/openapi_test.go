package web

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// notInOpenAPI are routes that are not API operations: the UI's files and the catch-all that
// answers JSON 404 and 405 under /api.
var notInOpenAPI = []string{"/", "/*", "/api/*"}

// TestOpenAPISync walks the registered routes and checks that each is an operation of the
// OpenAPI document, and that each operation of the document is a registered route.
func TestOpenAPISync(t *testing.T) {
	f := newFixture(t, 0, Options{})
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string            `json:"operationId"`
			Responses   map[string]any    `json:"responses"`
			Parameters  []json.RawMessage `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q, want 3.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, r := range f.srv.e.Routes() {
		if slices.Contains(notInOpenAPI, r.Path) || r.Method == echo.RouteNotFound {
			continue
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + path
		registered[key] = true
		op, ok := doc.Paths[path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, path)
			continue
		}
		if op.OperationID == "" || len(op.Responses) == 0 {
			t.Errorf("%s: no operationId or responses", key)
		}
		// every path parameter is declared
		for _, m := range param.FindAllStringSubmatch(r.Path, -1) {
			if !declares(op.Parameters, doc.Components.Parameters, m[1]) {
				t.Errorf("%s: path parameter %s is not declared", key, m[1])
			}
		}
	}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json has %s %s, which is not a route", strings.ToUpper(method), path)
			}
			if ids[op.OperationID] {
				t.Errorf("operationId %s twice", op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
}

// declares reports whether params (inline or $ref) declare the path parameter name.
func declares(params []json.RawMessage, shared map[string]struct {
	Name string `json:"name"`
	In   string `json:"in"`
}, name string) bool {
	for _, raw := range params {
		var p struct {
			Ref  string `json:"$ref"`
			Name string `json:"name"`
			In   string `json:"in"`
		}
		if json.Unmarshal(raw, &p) != nil {
			continue
		}
		if p.Ref != "" {
			s := shared[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			p.Name, p.In = s.Name, s.In
		}
		if p.Name == name && p.In == "path" {
			return true
		}
	}
	return false
}

// TestOpenAPISearchSemantics checks that the document states what image -> text search
// thresholds and what no_confident_match means, and that text sources are base names.
func TestOpenAPISearchSemantics(t *testing.T) {
	type schema struct {
		Properties map[string]struct {
			Description string `json:"description"`
		} `json:"properties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Description string `json:"description"`
			Parameters  []struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths["/api/v1/search/image"]["post"]
	minScore := ""
	for _, p := range op.Parameters {
		if p.Name == "min_score" {
			minScore = p.Description
		}
	}
	for _, want := range []string{"target=texts", "0.5", "0 turns the threshold off"} {
		if !strings.Contains(minScore, want) {
			t.Errorf("POST /search/image: min_score %q does not say %q", minScore, want)
		}
	}
	for _, want := range []string{"target=texts", "0.5", "min_score=0 turns the threshold off", "no_confident_match"} {
		if !strings.Contains(op.Description, want) {
			t.Errorf("POST /search/image: description %q does not say %q", op.Description, want)
		}
	}
	for _, name := range []string{"ImageResult", "TextResult"} {
		d := doc.Components.Schemas[name].Properties["no_confident_match"].Description
		if !strings.Contains(d, "only when candidates were reranked and none reached min_score") || !strings.Contains(d, "filters") {
			t.Errorf("%s.no_confident_match: %q", name, d)
		}
	}
	if d := doc.Components.Schemas["TextHit"].Properties["source"].Description; !strings.Contains(d, "base name") {
		t.Errorf("TextHit.source: %q", d)
	}
}
