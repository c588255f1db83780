// Package check plans the statements Treue sends with Vitess's own query
// planner against the VSchema in deploy/vitess, and says which of them would
// reach more than one shard. Its input is a capture written by a test run on
// MySQL (models/store/sqlcapture, TREUE_SQL_CAPTURE).
//
// It is a module of its own so that Treue itself never depends on Vitess.
package check

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vitess.io/vitess/go/json2"
	"vitess.io/vitess/go/test/vschemawrapper"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
	"vitess.io/vitess/go/vt/sqlparser"
	"vitess.io/vitess/go/vt/vtenv"
	"vitess.io/vitess/go/vt/vtgate/engine"
	"vitess.io/vitess/go/vt/vtgate/planbuilder"
	"vitess.io/vitess/go/vt/vtgate/vindexes"
)

// Statement is one captured statement (a line of a capture file).
type Statement struct {
	SQL    string `json:"sql"`
	Site   string `json:"site"`
	Method string `json:"method,omitempty"`
	Path   string `json:"path"`
	Shops  int    `json:"shops,omitempty"`
}

// Keyspaces maps each keyspace to its VSchema file, as operators apply them
// with `vtctldclient ApplyVSchema`.
var Keyspaces = map[string]string{
	"treue":        "vschema.json",
	"treue_global": "vschema_global.json",
}

// Planner plans statements against a VSchema.
type Planner struct {
	vw noKeyspace
}

// noKeyspace is Vitess's test VSchema as vtgate sees it for a session that
// selected no keyspace (database.dsn names no database): the wrapper's own
// keyspace lookups assume a keyspace named "main", so they are answered by
// its vtgate cursor, the code vtgate itself runs.
type noKeyspace struct{ *vschemawrapper.VSchemaWrapper }

func (n noKeyspace) SelectedKeyspace() (*vindexes.Keyspace, error) {
	return n.Vcursor.SelectedKeyspace()
}

func (n noKeyspace) AnyKeyspace() (*vindexes.Keyspace, error) { return n.Vcursor.AnyKeyspace() }

func (n noKeyspace) FirstSortedKeyspace() (*vindexes.Keyspace, error) {
	return n.Vcursor.FirstSortedKeyspace()
}

// NewPlanner loads the VSchema files of Keyspaces from dir.
func NewPlanner(dir string) (*Planner, error) {
	srv := &vschemapb.SrvVSchema{Keyspaces: map[string]*vschemapb.Keyspace{}}
	for ks, file := range Keyspaces {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("vschema: %w", err)
		}
		k := &vschemapb.Keyspace{}
		if err := json2.Unmarshal(b, k); err != nil {
			return nil, fmt.Errorf("vschema %s: %w", file, err)
		}
		srv.Keyspaces[ks] = k
	}
	env := vtenv.NewTestEnv()
	vs := vindexes.BuildVSchema(srv, env.Parser())
	for name, ks := range vs.Keyspaces {
		if ks.Error != nil {
			return nil, fmt.Errorf("vschema %s: %w", name, ks.Error)
		}
	}
	vw, err := vschemawrapper.NewVschemaWrapper(env, vs, planbuilder.TestBuilder)
	if err != nil {
		return nil, fmt.Errorf("vschema: %w", err)
	}
	// No keyspace selected: Vitess finds each table in the one keyspace
	// that has it.
	vw.Keyspace = nil
	return &Planner{vw: noKeyspace{vw}}, nil
}

// Route is how Vitess would run a statement.
type Route struct {
	// Plan is Vitess's plan type: Passthrough, MultiShard, Scatter, Join …
	Plan string
	// Opcodes are the routing opcodes of the plan's leaves, as Vitess
	// names them: EqualUnique, Unsharded, Scatter, IN, InsertSharded …
	Opcodes []string
	// Single is whether one shard (or the unsharded keyspace) answers.
	Single bool
	// Why says what reaches several shards, when Single is false.
	Why string
}

// session statements go to the connection's shard or to none.
var session = []sqlparser.StatementType{
	sqlparser.StmtBegin, sqlparser.StmtCommit, sqlparser.StmtRollback,
	sqlparser.StmtSavepoint, sqlparser.StmtSRollback, sqlparser.StmtRelease, sqlparser.StmtSet,
}

// Plan plans st; an error is a statement Vitess cannot plan at all.
func (p *Planner) Plan(st Statement) (Route, error) {
	if slices.Contains(session, sqlparser.Preview(st.SQL)) {
		return Route{Plan: "Session", Single: true}, nil
	}
	plan, err := planbuilder.TestBuilder(st.SQL, p.vw, "")
	if err != nil {
		return Route{}, err
	}
	r := Route{Plan: plan.Type.String(), Single: true}
	var sharded int
	var walk func(engine.Primitive)
	walk = func(prim engine.Primitive) {
		switch x := prim.(type) {
		case *engine.Route:
			r.leaf(x.RoutingParameters, &sharded)
		case *engine.Update:
			r.leaf(x.RoutingParameters, &sharded)
		case *engine.Delete:
			r.leaf(x.RoutingParameters, &sharded)
		case *engine.DDL:
			r.Opcodes = append(r.Opcodes, "DDL")
			if x.Keyspace != nil && x.Keyspace.Sharded {
				r.Single = false
				r.Why = "DDL on every shard"
			}
		case *engine.Insert:
			r.Opcodes = append(r.Opcodes, x.Opcode.String())
			if x.Opcode == engine.InsertSharded {
				sharded++
				// Vitess routes each row by its shop_id: one shard only when
				// the rows name one shop, which the capture counted.
				if st.Shops != 1 {
					r.Single = false
					r.Why = fmt.Sprintf("INSERT rows of %s shops", shopsWord(st.Shops))
				}
			}
		}
		inputs, _ := prim.Inputs()
		for _, in := range inputs {
			walk(in)
		}
	}
	walk(plan.Instructions)
	if r.Single && sharded > 1 {
		r.Single = false
		r.Why = fmt.Sprintf("%d separate queries to the sharded keyspace (%s)", sharded, r.Plan)
	}
	return r, nil
}

func shopsWord(n int) string {
	switch n {
	case 0:
		return "unknown"
	case 2:
		return "two or more"
	}
	return fmt.Sprint(n)
}

// leaf accounts for one routed query.
func (r *Route) leaf(rp *engine.RoutingParameters, sharded *int) {
	r.Opcodes = append(r.Opcodes, rp.Opcode.String())
	switch rp.Opcode {
	case engine.Unsharded, engine.Next, engine.DBA, engine.Reference, engine.None:
		return
	case engine.EqualUnique:
		*sharded++
		return
	}
	*sharded++
	r.Single = false
	r.Why = rp.Opcode.String() + " route"
}

// ReadCaptures reads every *.jsonl file in dir, each statement once.
func ReadCaptures(dir string) ([]Statement, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.jsonl capture in %s", dir)
	}
	seen := map[Statement]bool{}
	var out []Statement
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for n := 1; sc.Scan(); n++ {
			var st Statement
			if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s:%d: %w", f, n, err)
			}
			if !seen[st] {
				seen[st] = true
				out = append(out, st)
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	slices.SortFunc(out, func(a, b Statement) int {
		return strings.Compare(a.Path+"\x00"+a.SQL+"\x00"+a.Site, b.Path+"\x00"+b.SQL+"\x00"+b.Site)
	})
	return out, nil
}
