package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/store"
)

// TestComposeWeaviate checks the weaviate profile: three nodes that find each other (Raft and
// gossip), API-key auth, and a Glimpse service whose GLIMPSE_STORE names exactly those nodes
// with replication factor 3.
func TestComposeWeaviate(t *testing.T) {
	c := readCompose(t)
	var nodes []string
	for i := range 3 {
		name := fmt.Sprintf("weaviate-%d", i)
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		nodes = append(nodes, name)
		env := s.Environment
		if !slices.Equal(s.Profiles, []string{"weaviate"}) || !strings.Contains(s.Image, "weaviate:") {
			t.Errorf("%s: profiles %q image %q", name, s.Profiles, s.Image)
		}
		if env["CLUSTER_HOSTNAME"] != name || env["RAFT_BOOTSTRAP_EXPECT"] != "3" ||
			env["RAFT_JOIN"] != "weaviate-0,weaviate-1,weaviate-2" || env["DEFAULT_VECTORIZER_MODULE"] != "none" {
			t.Errorf("%s: cluster environment %v", name, env)
		}
		if env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] != "false" || env["AUTHENTICATION_APIKEY_ENABLED"] != "true" {
			t.Errorf("%s: want API-key auth and no anonymous access", name)
		}
		if i > 0 && !strings.Contains(env["CLUSTER_JOIN"], "weaviate-0:"+env["CLUSTER_GOSSIP_BIND_PORT"]) {
			t.Errorf("%s: CLUSTER_JOIN %q does not reach weaviate-0's gossip port", name, env["CLUSTER_JOIN"])
		}
		if len(s.Volumes) != 1 || s.Volumes[0].Type != "volume" || s.Volumes[0].Target != "/var/lib/weaviate" {
			t.Errorf("%s: volumes %+v, want one named volume at /var/lib/weaviate", name, s.Volumes)
		}
		if _, ok := c.Volumes[s.Volumes[0].Source]; !ok {
			t.Errorf("%s: volume %q not declared", name, s.Volumes[0].Source)
		}
	}
	g, ok := c.Services["glimpse-weaviate"]
	if !ok {
		t.Fatal("no service glimpse-weaviate")
	}
	if !slices.Equal(g.Profiles, []string{"weaviate"}) {
		t.Errorf("glimpse-weaviate profiles %q", g.Profiles)
	}
	cfg, err := store.ParseBackendURL(g.Environment["GLIMPSE_STORE"])
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range cfg.Hosts {
		hosts = append(hosts, strings.Split(h, ":")[0])
	}
	if cfg.Scheme != store.SchemeWeaviate || !slices.Equal(hosts, nodes) || len(cfg.GRPCHosts) != 3 || cfg.Replicas != 3 {
		t.Errorf("GLIMPSE_STORE %+v: want the three nodes, their gRPC ports, replicas 3", cfg)
	}
	if g.Environment["GLIMPSE_STORE_KEY_FILE"] != "/run/secrets/weaviate-api-key" {
		t.Errorf("GLIMPSE_STORE_KEY_FILE %q", g.Environment["GLIMPSE_STORE_KEY_FILE"])
	}
	for _, m := range g.Volumes {
		if m.Target == "/data" && m.Source == "glimpse-data" {
			t.Error("glimpse-weaviate shares the embedded service's data volume")
		}
	}
}
