package depcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContractHasNoAnalysis keeps the analysis out of the contract: no
// function or method that internal/report exports takes two reports, the
// shape of every comparison (Diff, Explain and their kin live in
// internal/compare, which works them out once per run).
func TestContractHasNoAnalysis(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/stageline/stageline/internal/report").CombinedOutput()
	if err != nil {
		t.Fatalf("go list internal/report: %v\n%s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in internal/report (%v)", err)
	}
	fset := token.NewFileSet()
	funcs := 0
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			funcs++
			reports := 0
			for _, field := range fn.Type.Params.List {
				if isReportPointer(field.Type) {
					reports += max(1, len(field.Names))
				}
			}
			if fn.Recv != nil && len(fn.Recv.List) == 1 && isReportPointer(fn.Recv.List[0].Type) {
				reports++
			}
			if reports >= 2 {
				t.Errorf("%s: report.%s takes two reports: a comparison belongs in internal/compare", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
	if funcs < 5 {
		t.Fatalf("found %d exported functions in internal/report; expected its whole API", funcs)
	}
}

// isReportPointer reports whether a parameter's type is *Report.
func isReportPointer(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "Report"
}
