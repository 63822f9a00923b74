package catalog

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
)

// workspace is the stored record of a workspace.
type workspace struct {
	ID          string            `json:"id"`
	Description *string           `json:"description,omitempty"`
	Role        *string           `json:"role,omitempty"`
	S3Location  *string           `json:"s3Location,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated"`
	// ViewID names the barrier view holding the workspace's contents. It is
	// random, so a workspace re-created under the same name never meets the
	// old one's data.
	ViewID []byte `json:"viewId"`
	// DataPolicy is set once an administrator changes the default.
	DataPolicy *DataPolicy `json:"dataPolicy,omitempty"`
}

func (s *Service) workspaceKey(id string) []byte {
	return key("ws", s.b.System().Index(id))
}

func (s *Service) workspaceARN(id string) string { return s.arn("workspace/" + id) }

// WorkspaceView returns the view of workspace id, whose keys go with it:
// for data kept on the workspace's behalf (query results being paged),
// shredded with it.
func (s *Service) WorkspaceView(ctx context.Context, id string) (*barrier.View, error) {
	var v *barrier.View
	err := s.view(ctx, func(tx *barrier.Tx) error {
		var err error
		v, err = s.workspaceView(tx, id, 0)
		return err
	})
	return v, err
}

// loadWorkspace reads a workspace and opens its view.
func (s *Service) loadWorkspace(ctx context.Context, tx *barrier.Tx, id string) (*workspace, *barrier.View, error) {
	var ws workspace
	ok, err := getJSON(tx, s.b.System(), s.workspaceKey(id), &ws)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, notFound("Workspace %s not found", id)
	}
	v, err := tx.View(ws.ViewID)
	if err != nil {
		return nil, nil, err
	}
	return &ws, v, nil
}

// workspaceView is the view of a workspace, for the data plane, which
// looks its workspace up on every call: the record is decoded once for as
// long as its stored bytes stay the same, and read once for as long as no
// catalog write ends, for a reader at catalog generation gen (0: none).
func (s *Service) workspaceView(tx *barrier.Tx, id string, gen uint64) (*barrier.View, error) {
	ws, err := s.workspaces.loadAt(tx, s.b.System(), s.workspaceKey(id), gen)
	if err != nil {
		return nil, err
	}
	if ws == nil {
		return nil, notFound("Workspace %s not found", id)
	}
	return tx.View(ws.ViewID)
}

// entityIn loads an entity of a workspace, or says it is not there.
func (s *Service) entityIn(ctx context.Context, tx *barrier.Tx, wsID, id string) (*workspace, *barrier.View, *entity, error) {
	ws, v, err := s.loadWorkspace(ctx, tx, wsID)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := loadEntity(tx, v, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if e == nil {
		return nil, nil, nil, notFound("Entity %s not found in workspace %s", id, ws.ID)
	}
	return ws, v, e, nil
}

// sceneIn loads a scene of a workspace, or says it is not there.
func (s *Service) sceneIn(ctx context.Context, tx *barrier.Tx, wsID, id string) (*workspace, *barrier.View, *scene, error) {
	ws, v, err := s.loadWorkspace(ctx, tx, wsID)
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := loadScene(tx, v, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if sc == nil {
		return nil, nil, nil, notFound("Scene %s not found in workspace %s", id, ws.ID)
	}
	return ws, v, sc, nil
}

// typeIn loads a component type of a workspace, built-in ones included,
// or says it is not there.
func (s *Service) typeIn(ctx context.Context, tx *barrier.Tx, wsID, id string) (*workspace, *barrier.View, *componentType, error) {
	ws, v, err := s.loadWorkspace(ctx, tx, wsID)
	if err != nil {
		return nil, nil, nil, err
	}
	ct, err := loadType(tx, v, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if ct == nil {
		return nil, nil, nil, notFound("Component type %s not found in workspace %s", id, ws.ID)
	}
	return ws, v, ct, nil
}

// CreateWorkspace creates a workspace and the encrypted view that holds
// its contents, in one transaction.
func (s *Service) CreateWorkspace(ctx context.Context, in *model.CreateWorkspaceInput) (*model.CreateWorkspaceOutput, error) {
	id := in.WorkspaceId
	err := s.view(ctx, func(tx *barrier.Tx) error {
		if _, err := tx.Get(s.b.System(), s.workspaceKey(id)); err == nil {
			return conflict("Workspace %s already exists", id)
		} else if !isNotFound(err) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	location, made, err := s.workspaceLocation(ctx, id, in.S3Location)
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	ws := &workspace{ID: id, Description: in.Description, Role: in.Role, Tags: in.Tags, Created: now, Updated: now, ViewID: make([]byte, 16)}
	if location != "" {
		ws.S3Location = &location
	}
	rand.Read(ws.ViewID)
	err = s.update(ctx, func(tx *barrier.Tx) error {
		if _, err := tx.Get(s.b.System(), s.workspaceKey(id)); err == nil {
			return conflict("Workspace %s already exists", id)
		} else if !isNotFound(err) {
			return err
		}
		if _, err := tx.CreateView(ws.ViewID); err != nil {
			return err
		}
		return putJSON(tx, s.b.System(), s.workspaceKey(id), ws)
	})
	if err != nil {
		if made != "" {
			s.buckets.DeleteBucket(context.Background(), made) // lost a race for the ID
		}
		return nil, err
	}
	return &model.CreateWorkspaceOutput{Arn: model.String(s.workspaceARN(id)), CreationDateTime: ts(now)}, nil
}

// workspaceID accepts a workspace ID or its ARN, as GetWorkspace does.
func (s *Service) workspaceID(idOrARN string) (string, error) {
	if !strings.HasPrefix(idOrARN, "arn:") {
		return idOrARN, nil
	}
	a, err := twinvault.ParseARN(idOrARN)
	if err != nil || a.Service != "iottwinmaker" {
		return "", invalid("%s is not a workspace ARN", "workspaceId")
	}
	id, ok := strings.CutPrefix(a.Resource, "workspace/")
	if !ok || strings.Contains(id, "/") || a.Region != s.region || a.Account != twinvault.Account {
		return "", notFound("Workspace not found")
	}
	return id, nil
}

func (s *Service) GetWorkspace(ctx context.Context, in *model.GetWorkspaceInput) (*model.GetWorkspaceOutput, error) {
	id, err := s.workspaceID(in.WorkspaceId)
	if err != nil {
		return nil, err
	}
	var ws *workspace
	err = s.view(ctx, func(tx *barrier.Tx) error {
		ws, _, err = s.loadWorkspace(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &model.GetWorkspaceOutput{
		WorkspaceId:      model.String(ws.ID),
		Arn:              model.String(s.workspaceARN(ws.ID)),
		Description:      ws.Description,
		Role:             ws.Role,
		S3Location:       ws.S3Location,
		LinkedServices:   []string{},
		CreationDateTime: ts(ws.Created),
		UpdateDateTime:   ts(ws.Updated),
	}, nil
}

func (s *Service) UpdateWorkspace(ctx context.Context, in *model.UpdateWorkspaceInput) (*model.UpdateWorkspaceOutput, error) {
	if in.S3Location != nil {
		if _, _, err := s.workspaceLocation(ctx, in.WorkspaceId, in.S3Location); err != nil {
			return nil, err
		}
	}
	now := s.timestamp()
	err := s.update(ctx, func(tx *barrier.Tx) error {
		ws, _, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		if in.Description != nil {
			ws.Description = in.Description
		}
		if in.Role != nil {
			ws.Role = in.Role
		}
		if in.S3Location != nil {
			ws.S3Location = in.S3Location
		}
		ws.Updated = now
		return putJSON(tx, s.b.System(), s.workspaceKey(ws.ID), ws)
	})
	if err != nil {
		return nil, err
	}
	return &model.UpdateWorkspaceOutput{UpdateDateTime: ts(now)}, nil
}

// DeleteWorkspace removes an empty workspace and destroys its key, so
// nothing ever written in it can be decrypted again. Like TwinMaker it
// refuses while entities, component types or scenes remain, and leaves
// the workspace's S3 bucket in place: its objects are the user's to keep
// or delete.
func (s *Service) DeleteWorkspace(ctx context.Context, in *model.DeleteWorkspaceInput) (*model.DeleteWorkspaceOutput, error) {
	var viewID []byte
	err := s.update(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		var left []string
		for _, p := range []struct{ prefix, what string }{{"en/", "entities"}, {"ct/", "component types"}, {"sc/", "scenes"}} {
			found := false
			err := tx.Scan(v, kv.Range{Start: []byte(p.prefix), End: kv.PrefixEnd([]byte(p.prefix)), Limit: 1}, func(_, _ []byte) error {
				found = true
				return kv.Stop
			})
			if err != nil {
				return err
			}
			if found {
				left = append(left, p.what)
			}
		}
		if len(left) > 0 {
			return invalid("Workspace %s is not empty: delete its %s first", ws.ID, strings.Join(left, ", "))
		}
		viewID = ws.ViewID
		return tx.Delete(s.b.System(), s.workspaceKey(ws.ID))
	})
	if err != nil {
		return nil, err
	}
	if err := s.b.DropView(ctx, viewID); err != nil {
		return nil, err
	}
	if s.ts != nil {
		s.ts.DroppedView(viewID)
	}
	// The message is the event's responseElements: the audit trail
	// records the keys' destruction with the call.
	return &model.DeleteWorkspaceOutput{Message: model.String("Workspace " + in.WorkspaceId + " deleted; its encryption keys were destroyed, so no copy of its data can be decrypted")}, nil
}

func (s *Service) ListWorkspaces(ctx context.Context, in *model.ListWorkspacesInput) (*model.ListWorkspacesOutput, error) {
	p := pager{sys: s.b.System(), scope: "ListWorkspaces"}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListWorkspacesOutput{WorkspaceSummaries: []model.WorkspaceSummary{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		next, err = scanPage(tx, s.b.System(), []byte("ws/"), after, pageSize(in.MaxResults, 25), func(_, val []byte) (bool, error) {
			var ws workspace
			if err := decode(val, &ws); err != nil {
				return false, err
			}
			out.WorkspaceSummaries = append(out.WorkspaceSummaries, model.WorkspaceSummary{
				WorkspaceId:      model.String(ws.ID),
				Arn:              model.String(s.workspaceARN(ws.ID)),
				Description:      ws.Description,
				LinkedServices:   []string{},
				CreationDateTime: ts(ws.Created),
				UpdateDateTime:   ts(ws.Updated),
			})
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = optString(p.encode(next))
	return out, nil
}
