package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/model"
)

// route is one operation of the model bound to the function that serves it.
type route struct {
	op       model.Operation
	segments []string // literal segments; "{name}" for a label
	call     func(ctx context.Context, in model.Input) (any, error)
}

// router matches a method and an escaped path against the operations of
// one service. Labels are unescaped per segment after the split, so an
// encoded "/" (%2F) inside a label never splits it.
type router struct {
	routes []*route
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

func (rt *router) add(op model.Operation, call func(context.Context, model.Input) (any, error)) {
	rt.routes = append(rt.routes, &route{op: op, segments: splitPath(op.Path), call: call})
}

// match returns the route for method and escaped path, with the path's
// label values unescaped. found reports whether the path exists for some
// other method.
func (rt *router) match(method, escapedPath string) (r *route, labels map[string]string, pathFound bool, err error) {
	segs := splitPath(escapedPath)
	best := -1
	for _, cand := range rt.routes {
		if len(cand.segments) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, s := range cand.segments {
			if isLabel(s) {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if !ok {
			continue
		}
		pathFound = true
		if cand.op.Method == method && literals > best {
			r, best = cand, literals
		}
	}
	if r == nil {
		return nil, nil, pathFound, nil
	}
	labels = make(map[string]string)
	for i, s := range r.segments {
		if isLabel(s) {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, nil, true, twinvault.Errorf(twinvault.ValidationException, "malformed path segment %d", i+1)
			}
			labels[s[1:len(s)-1]] = v
		}
	}
	return r, labels, true, nil
}

func isLabel(s string) bool { return len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}' }

// Handle binds the operation called name to fn. It panics if the model has
// no such operation or its input type is not I: both are programming errors
// found at start-up.
func Handle[I model.Input, O any](s *Server, name string, fn func(context.Context, I) (O, error)) {
	for _, r := range s.twinmaker.routes {
		if r.op.Name != name {
			continue
		}
		if _, ok := r.op.Input().(I); !ok {
			panic(fmt.Sprintf("api: %s takes %T, not the handler's input type", name, r.op.Input()))
		}
		r.call = func(ctx context.Context, in model.Input) (any, error) { return fn(ctx, in.(I)) }
		return
	}
	panic(fmt.Sprintf("api: no operation %q in the model", name))
}

func (r *route) serve(ctx context.Context, in model.Input) (any, error) {
	if r.call == nil {
		return nil, twinvault.Errorf(twinvault.ValidationException, "%s is not supported by this server", r.op.Name)
	}
	return r.call(ctx, in)
}
