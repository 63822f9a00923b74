package catalog

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/model"
)

// maxTags is TwinMaker's limit of tags on one resource.
const maxTags = 50

// tagged is a stored resource that carries tags.
type tagged struct {
	tags  *map[string]string
	save  func() error
	label string
}

// findTagged loads the resource an ARN names, within tx.
func (s *Service) findTagged(ctx context.Context, tx *barrier.Tx, arn string) (*tagged, error) {
	a, err := twinvault.ParseARN(arn)
	if err != nil || a.Service != "iottwinmaker" || a.Region != s.region || a.Account != twinvault.Account {
		return nil, notFound("Resource %s not found", arn)
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) < 2 || parts[0] != "workspace" {
		return nil, notFound("Resource %s not found", arn)
	}
	ws, v, err := s.loadWorkspace(ctx, tx, parts[1])
	if err != nil {
		return nil, notFound("Resource %s not found", arn)
	}
	if len(parts) == 2 {
		return &tagged{tags: &ws.Tags, label: "workspace", save: func() error {
			return putJSON(tx, s.b.System(), s.workspaceKey(ws.ID), ws)
		}}, nil
	}
	if len(parts) != 4 {
		return nil, notFound("Resource %s not found", arn)
	}
	id := parts[3]
	switch parts[2] {
	case "entity":
		e, err := loadEntity(tx, v, id)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return &tagged{tags: &e.Tags, save: func() error { return putJSON(tx, v, entityKey(v, id), e) }}, nil
		}
	case "component-type":
		ct, err := loadType(tx, v, id)
		if err != nil {
			return nil, err
		}
		if ct != nil && !ct.builtin {
			return &tagged{tags: &ct.Tags, save: func() error { return putJSON(tx, v, ctKey(v, id), ct) }}, nil
		}
	case "scene":
		sc, err := loadScene(tx, v, id)
		if err != nil {
			return nil, err
		}
		if sc != nil {
			return &tagged{tags: &sc.Tags, save: func() error { return putJSON(tx, v, sceneKey(v, id), sc) }}, nil
		}
	}
	return nil, notFound("Resource %s not found", arn)
}

func (s *Service) TagResource(ctx context.Context, in *model.TagResourceInput) (*model.TagResourceOutput, error) {
	err := s.update(ctx, func(tx *barrier.Tx) error {
		r, err := s.findTagged(ctx, tx, *in.ResourceARN)
		if err != nil {
			return err
		}
		merged := map[string]string{}
		for k, v := range *r.tags {
			merged[k] = v
		}
		for k, v := range in.Tags {
			merged[k] = v
		}
		if len(merged) > maxTags {
			return twinvault.Errorf(twinvault.TooManyTagsException, "a resource can have at most %d tags; this request would give it %d", maxTags, len(merged))
		}
		*r.tags = merged
		return r.save()
	})
	if err != nil {
		return nil, err
	}
	return &model.TagResourceOutput{}, nil
}

func (s *Service) UntagResource(ctx context.Context, in *model.UntagResourceInput) (*model.UntagResourceOutput, error) {
	err := s.update(ctx, func(tx *barrier.Tx) error {
		r, err := s.findTagged(ctx, tx, *in.ResourceARN)
		if err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(*r.tags, k)
		}
		return r.save()
	})
	if err != nil {
		return nil, err
	}
	return &model.UntagResourceOutput{}, nil
}

func (s *Service) ListTagsForResource(ctx context.Context, in *model.ListTagsForResourceInput) (*model.ListTagsForResourceOutput, error) {
	sys := s.b.System()
	p := pager{sys: sys, scope: "ListTagsForResource\x00" + *in.ResourceARN}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListTagsForResourceOutput{Tags: map[string]string{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		r, err := s.findTagged(ctx, tx, *in.ResourceARN)
		if err != nil {
			return err
		}
		var page []string
		page, next = memPage(sys, sortedKeys(*r.tags), after, pageSize(in.MaxResults, 25))
		for _, k := range page {
			out.Tags[k] = (*r.tags)[k]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = optString(p.encode(next))
	return out, nil
}

// ResourceTags returns the tags of the resource arn names, or none when
// there is no such resource: the authoriser's aws:ResourceTag keys.
func (s *Service) ResourceTags(ctx context.Context, arn string) (map[string]string, error) {
	var tags map[string]string
	err := s.view(ctx, func(tx *barrier.Tx) error {
		r, err := s.findTagged(ctx, tx, arn)
		if err != nil {
			return err
		}
		tags = maps.Clone(*r.tags)
		return nil
	})
	var te *twinvault.Error
	if errors.As(err, &te) && (te.Code == twinvault.ResourceNotFoundException || te.Code == twinvault.ValidationException) {
		return nil, nil
	}
	return tags, err
}
