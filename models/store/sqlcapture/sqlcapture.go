// Package sqlcapture records the shapes of the statements a store sends, each
// with the Go call site that sent it and the path (intake, processing,
// dispatch, …) it belongs to, as JSON lines. The Vitess planner check
// (deploy/vitess/check) plans every shape against the VSchema.
//
// It is meant for test runs: each distinct (shape, call site) is written
// once, and recording walks the call stack of every statement.
package sqlcapture

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
)

// Statement is one line of a capture file.
type Statement struct {
	// SQL is the statement with placeholders; lists of placeholders and
	// repeated row tuples or OR-ed groups are folded to one.
	SQL string `json:"sql"`
	// Site is the first frame outside GORM, database/sql and the store:
	// "webhooks/process/processor.go:212 (*Processor).process".
	Site string `json:"site"`
	// Method is the store method that sent it, "(*Store).ClaimInbox".
	Method string `json:"method,omitempty"`
	// Path is what the statement serves, by the first classified frame
	// from the site outward (see Classify).
	Path string `json:"path"`
	// Shops is, for an INSERT, how many distinct shop_id values its rows
	// carry: 2 stands for two or more (the rows span shards).
	Shops int `json:"shops,omitempty"`
}

// Recorder appends the statements it is told of to a file. It implements
// store.StatementRecorder.
type Recorder struct {
	mu   sync.Mutex
	f    *os.File
	seen map[Statement]bool
}

// Open appends to file, creating it.
func Open(file string) (*Recorder, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sqlcapture: %w", err)
	}
	return &Recorder{f: f, seen: map[Statement]bool{}}, nil
}

// Close closes the file.
func (r *Recorder) Close() error { return r.f.Close() }

// RecordStatement records sql once per shape, call site and path.
func (r *Recorder) RecordStatement(_ context.Context, sql string, vars []any) {
	st := Statement{SQL: Shape(sql)}
	if isInsert(sql) {
		st.Shops = min(insertShops(sql, vars), 2)
	}
	st.Site, st.Method, st.Path = caller()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[st] {
		return
	}
	r.seen[st] = true
	b, _ := json.Marshal(st) // strings and ints always marshal
	// One write per line: processes appending to one file do not interleave.
	r.f.Write(append(b, '\n'))
}

// internal reports frames that are not the statement's caller: the ORM, the
// driver, the store and this package. The store's tests are callers.
func internal(f runtime.Frame) bool {
	fn := f.Function
	switch {
	case strings.HasPrefix(fn, "gorm.io/"), strings.HasPrefix(fn, "database/sql"),
		strings.HasPrefix(fn, "github.com/go-sql-driver/"), strings.HasPrefix(fn, "github.com/glebarez/"),
		strings.HasPrefix(fn, "runtime."), strings.HasPrefix(fn, "reflect."):
		return true
	case strings.Contains(fn, "/models/store/sqlcapture."), strings.Contains(fn, "/models/store/storetest."):
		return true
	case strings.Contains(fn, "/models/store."):
		return !strings.HasSuffix(f.File, "_test.go")
	}
	return false
}

// caller finds the call site, the store method and the path of the
// statement being recorded. The path is that of the outermost classified
// frame outside tests: a helper of the processor that the daily scan calls
// serves the scan.
func caller() (site, method, path string) {
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	found := false
	for {
		f, more := frames.Next()
		if !found && internal(f) {
			if strings.Contains(f.Function, "/models/store.") {
				method = funcName(f.Function) // the outermost store frame wins
				if p := storePath(method); p != "" {
					path = p
				}
			}
		} else if !found {
			found = true
			site = fmt.Sprintf("%s:%d %s", repoFile(f.File), f.Line, funcName(f.Function))
		}
		if found && storePath(method) == "" && !entries[path] {
			switch p := Classify(repoFile(f.File)); {
			case p == "" || p == "test":
			case p == "admin" && path != "" && path != "admin":
				// cmd/ starts the workers: what they send is theirs.
			default:
				path = p
			}
		}
		if !more {
			break
		}
	}
	if path == "" {
		path = "test"
	}
	return site, method, path
}

// entries are paths whose code is an entry point of its own, whoever calls
// it: the API's admin endpoints for actions live beside the timeline's
// handlers, and support's opt-outs beside the retention job.
var entries = map[string]bool{"admin": true, "privacy": true, "backtest": true}

// storePath is the path of store methods whatever calls them.
func storePath(method string) string {
	switch method {
	case "(*Store).Migrate", "(*Store).SchemaVersion", "(*Store).CheckSchema":
		return "migrations"
	case "Open":
		return "startup"
	}
	return ""
}

// Classify names the path a source file of Treue serves, or "" when the
// file does not decide it (helpers shared by several paths, main).
func Classify(file string) string {
	if strings.HasSuffix(file, "_test.go") {
		return "test"
	}
	switch file {
	case "webhooks/inbox/intake.go", "webhooks/inbox/groupcommit.go":
		return "intake"
	case "webhooks/process/processor.go", "webhooks/process/planner.go", "webhooks/process/journal.go",
		"webhooks/process/record.go", "webhooks/process/refund.go":
		return "processing"
	case "webhooks/dispatch/dispatcher.go", "webhooks/dispatch/ratelimit.go", "webhooks/dispatch/waiting.go":
		return "dispatch"
	case "webhooks/process/scanner.go":
		return "scanner"
	case "handlers/customers.go", "handlers/actions.go", "support/support.go", "support/timeline.go":
		return "timeline"
	case "webhooks/privacy/privacy.go", "handlers/privacy.go", "support/export.go":
		return "privacy"
	case "handlers/reports_loyalty.go", "handlers/reports_rules.go":
		return "reports"
	case "webhooks/process/backtest.go":
		return "backtest"
	}
	switch {
	case strings.HasPrefix(file, "handlers/"), strings.HasPrefix(file, "cmd/"), file == "webhooks/dispatch/admin.go":
		return "admin"
	}
	return ""
}

// repoFile is file relative to the repository: the part after the module's
// directory (…/treue/webhooks/intake.go → webhooks/intake.go).
func repoFile(file string) string {
	for _, top := range []string{"/webhooks/", "/handlers/", "/support/", "/cmd/", "/models/", "/reports/", "/journey/", "/rules/", "/bench/", "/seed/", "/plugin/", "/audit/", "/security/", "/egress/"} {
		if i := strings.LastIndex(file, top); i >= 0 {
			return file[i+1:]
		}
	}
	return file
}

// funcName drops the package path: "(*Processor).process".
func funcName(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		fn = fn[i+1:]
	}
	if i := strings.Index(fn, "."); i >= 0 {
		fn = fn[i+1:]
	}
	return fn
}
