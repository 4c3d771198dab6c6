package auth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qorgan/internal/auth"
)

// TestEveryAuditedActionIsListed reads Qorgan's source and resolves the
// action of every call to auth.Append: a string literal, a variable set from
// literals in the same function, a parameter whose callers in the same
// package pass literals, or a concatenation of those. Every action found
// must be in auth.Actions (so the audit page can name it and offer it in its
// filter), and every listed action must be written somewhere. An action the
// test cannot resolve fails it, naming the place: pass a literal there.
func TestEveryAuditedActionIsListed(t *testing.T) {
	found := map[string][]string{} // action → where
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{} // folder → its non-test files
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for dir, files := range pkgs {
		r := resolver{fset: fset, files: files, inAuth: filepath.Base(dir) == "auth"}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !r.isAppend(call) || len(call.Args) < 5 {
					return true
				}
				calls++
				where := fset.Position(call.Pos()).String()
				vals, ok := r.values(call.Args[4], enclosing(f, call.Pos()), 0)
				if !ok || len(vals) == 0 {
					t.Errorf("%s: cannot tell which action this audit entry records; pass a string literal", where)
				}
				for _, v := range vals {
					found[v] = append(found[v], where)
				}
				return true
			})
		}
	}
	if calls < 30 {
		t.Fatalf("found only %d calls of auth.Append in the source: the test is not reading it", calls)
	}
	for a, where := range found {
		if !slices.Contains(auth.Actions, a) {
			t.Errorf("action %q (written at %s) is not in auth.Actions", a, strings.Join(where, ", "))
		}
	}
	for _, a := range auth.Actions {
		if found[a] == nil {
			t.Errorf("auth.Actions lists %q, but nothing in the source writes it", a)
		}
	}
}

// resolver finds the string values an expression can have within one
// package's files.
type resolver struct {
	fset   *token.FileSet
	files  []*ast.File
	inAuth bool
}

func (r resolver) isAppend(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		return ok && x.Name == "auth" && fn.Sel.Name == "Append"
	case *ast.Ident:
		return r.inAuth && fn.Name == "Append"
	}
	return false
}

// values returns what e can be inside fn; false when it cannot tell.
func (r resolver) values(e ast.Expr, fn *ast.FuncDecl, depth int) ([]string, bool) {
	if depth > 3 {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		return []string{s}, err == nil && e.Kind == token.STRING
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, false
		}
		xs, ok1 := r.values(e.X, fn, depth)
		ys, ok2 := r.values(e.Y, fn, depth)
		var out []string
		for _, x := range xs {
			for _, y := range ys {
				out = append(out, x+y)
			}
		}
		return out, ok1 && ok2
	case *ast.Ident:
		if fn == nil {
			return nil, false
		}
		if i := paramIndex(fn, e.Name); i >= 0 {
			return r.argsOf(fn.Name.Name, i, depth)
		}
		var out []string
		ok := true
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			as, isAssign := n.(*ast.AssignStmt)
			if !isAssign {
				return true
			}
			for i, l := range as.Lhs {
				if id, isID := l.(*ast.Ident); isID && id.Name == e.Name && i < len(as.Rhs) {
					vs, vok := r.values(as.Rhs[i], fn, depth+1)
					out, ok = append(out, vs...), ok && vok
				}
			}
			return true
		})
		return out, ok && len(out) > 0
	}
	return nil, false
}

// argsOf returns the values passed as argument i to every call of the
// function or method named name in the package.
func (r resolver) argsOf(name string, i, depth int) ([]string, bool) {
	var out []string
	ok, calls := true, 0
	for _, f := range r.files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, isCall := n.(*ast.CallExpr)
			if !isCall {
				return true
			}
			var called string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				called = fn.Name
			case *ast.SelectorExpr:
				called = fn.Sel.Name
			}
			if called != name || i >= len(call.Args) {
				return true
			}
			calls++
			vs, vok := r.values(call.Args[i], enclosing(f, call.Pos()), depth+1)
			out, ok = append(out, vs...), ok && vok
			return true
		})
	}
	return out, ok && calls > 0
}

// paramIndex is the position of the parameter named name in fn's
// parameters (the receiver not counted), or -1.
func paramIndex(fn *ast.FuncDecl, name string) int {
	i := 0
	for _, field := range fn.Type.Params.List {
		if len(field.Names) == 0 {
			i++
		}
		for _, n := range field.Names {
			if n.Name == name {
				return i
			}
			i++
		}
	}
	return -1
}

// enclosing is the function declaration of f that holds pos.
func enclosing(f *ast.File, pos token.Pos) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil && fn.Pos() <= pos && pos < fn.End() {
			return fn
		}
	}
	return nil
}
