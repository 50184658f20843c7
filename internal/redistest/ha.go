package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MasterName is the name the Sentinels of StartSentinel watch the master under.
const MasterName = "herald-master"

// Sentinel is a master, its replicas and three Sentinels watching them, each a real
// process. Failover is quick: a master is down after 1 s without an answer.
type Sentinel struct {
	Master    *Server
	Replicas  []*Server
	Sentinels []*Server
}

// StartSentinel starts a master with the given number of replicas and three Sentinels,
// and waits until the Sentinels agree on the master and see every replica.
func StartSentinel(t testing.TB, replicas int) *Sentinel {
	t.Helper()
	g := &Sentinel{Master: StartWith(t)}
	host, port := "127.0.0.1", strconv.Itoa(g.Master.port)
	for range replicas {
		g.Replicas = append(g.Replicas, StartWith(t, "--replicaof", host, port))
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err := Cli(g.Master.Addr, "INFO", "replication")
		if err == nil && strings.Count(out, "state=online") == replicas {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the replicas did not come online: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dir := t.TempDir()
	for i := range 3 {
		s := newServer(t)
		s.conf = filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s %[3]s 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 4000\n"+
			"sentinel parallel-syncs %[1]s 1\n", MasterName, host, port)
		if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		s.args = []string{"--sentinel"}
		s.start()
		t.Cleanup(s.Stop)
		g.Sentinels = append(g.Sentinels, s)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, s := range g.Sentinels {
			out, err := Cli(s.Addr, "SENTINEL", "master", MasterName)
			m := pairs(out)
			if err != nil || m["num-slaves"] != strconv.Itoa(replicas) || m["num-other-sentinels"] != "2" {
				ok = false
			}
		}
		if ok {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the Sentinels did not settle")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URL returns the redis-sentinel:// URL naming every Sentinel.
func (g *Sentinel) URL(db int) string {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr
	}
	return fmt.Sprintf("redis-sentinel://%s/%d?master=%s", strings.Join(addrs, ","), db, MasterName)
}

// MasterAddr returns the master's address as the first Sentinel that answers reports it.
func (g *Sentinel) MasterAddr() (string, error) {
	var last error
	for _, s := range g.Sentinels {
		out, err := Cli(s.Addr, "SENTINEL", "get-master-addr-by-name", MasterName)
		if err != nil {
			last = err
			continue
		}
		f := strings.Fields(out)
		if len(f) == 2 {
			return f[0] + ":" + f[1], nil
		}
		last = fmt.Errorf("answer %q", out)
	}
	return "", last
}

// Cli runs redis-cli against addr and returns its output (raw, one value a line).
func Cli(addr string, args ...string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("redis-cli", append([]string{"-h", host, "-p", port, "--raw"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("redis-cli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Cluster is a Redis Cluster of real processes: masters, each with its replicas.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts masters*(1+replicasEach) cluster nodes, joins them with
// redis-cli --cluster create, and waits until every node reports the cluster ok and
// every replica is online.
// A node is failed after 1 s without an answer.
func StartCluster(t testing.TB, masters, replicasEach int) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-cli is not installed: %v", err)
		}
		t.Skipf("redis-cli is not installed: %v", err)
	}
	dir := t.TempDir()
	c := &Cluster{}
	for i := range masters * (1 + replicasEach) {
		c.Nodes = append(c.Nodes, StartWith(t, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-node-timeout", "1000"))
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasEach), "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, online := true, 0
		for _, n := range c.Nodes {
			out, err := Cli(n.Addr, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(out, "cluster_state:ok") {
				ok = false
			}
			out, _ = Cli(n.Addr, "INFO", "replication")
			online += strings.Count(out, "state=online")
		}
		ok = ok && online == masters*replicasEach
		if ok {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the cluster did not reach state ok")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URL returns the redis-cluster:// URL naming every node as a seed.
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// SlotOwner returns the node that is master of the slot key hashes to, and its replicas.
func (c *Cluster) SlotOwner(key string) (master *Server, replicas []*Server, err error) {
	out, err := Cli(c.Nodes[0].Addr, "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return nil, nil, err
	}
	slot, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return nil, nil, fmt.Errorf("CLUSTER KEYSLOT: %q", out)
	}
	for _, n := range c.Nodes {
		out, err := Cli(n.Addr, "CLUSTER", "NODES")
		if err != nil {
			continue
		}
		ids := map[string]string{} // node id -> addr
		var masterID string
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) < 8 {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			ids[f[0]] = addr
			if !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
				continue
			}
			for _, r := range f[8:] {
				lo, hi, found := strings.Cut(r, "-")
				a, _ := strconv.Atoi(lo)
				b := a
				if found {
					b, _ = strconv.Atoi(hi)
				}
				if slot >= a && slot <= b {
					masterID = f[0]
				}
			}
		}
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) >= 4 && f[3] == masterID && !strings.Contains(f[2], "fail") {
				replicas = append(replicas, c.byAddr(ids[f[0]]))
			}
		}
		if m := c.byAddr(ids[masterID]); m != nil {
			return m, replicas, nil
		}
	}
	return nil, nil, fmt.Errorf("redistest: no master found for slot %d", slot)
}

func (c *Cluster) byAddr(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// pairs reads redis-cli's raw output of a flat key-value reply.
func pairs(out string) map[string]string {
	f := strings.Split(strings.TrimSpace(out), "\n")
	m := map[string]string{}
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}
