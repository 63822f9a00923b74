package catalog

import (
	"context"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/model"
)

// scene is the stored record of a scene. Its content (the scene JSON and
// models) lives in the workspace's bucket at ContentLocation.
type scene struct {
	ID              string            `json:"id"`
	ContentLocation string            `json:"contentLocation"`
	Description     *string           `json:"description,omitempty"`
	Capabilities    []string          `json:"capabilities,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	Created         time.Time         `json:"created"`
	Updated         time.Time         `json:"updated"`
}

func sceneKey(v *barrier.View, id string) []byte { return key("sc", v.Index(id)) }

func (s *Service) sceneARN(ws, id string) string { return s.arn("workspace/" + ws + "/scene/" + id) }

func loadScene(tx *barrier.Tx, v *barrier.View, id string) (*scene, error) {
	return load[scene](tx, v, sceneKey(v, id))
}

func (s *Service) CreateScene(ctx context.Context, in *model.CreateSceneInput) (*model.CreateSceneOutput, error) {
	if err := s.checkSceneContent(ctx, in.WorkspaceId, in.ContentLocation); err != nil {
		return nil, err
	}
	now := s.timestamp()
	id := *in.SceneId
	err := s.update(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		if old, err := loadScene(tx, v, id); err != nil {
			return err
		} else if old != nil {
			return conflict("Scene %s already exists in workspace %s", id, ws.ID)
		}
		return putJSON(tx, v, sceneKey(v, id), &scene{
			ID: id, ContentLocation: *in.ContentLocation, Description: in.Description,
			Capabilities: in.Capabilities, Metadata: in.SceneMetadata, Tags: in.Tags, Created: now, Updated: now,
		})
	})
	if err != nil {
		return nil, err
	}
	return &model.CreateSceneOutput{Arn: model.String(s.sceneARN(in.WorkspaceId, id)), CreationDateTime: ts(now)}, nil
}

func (s *Service) GetScene(ctx context.Context, in *model.GetSceneInput) (*model.GetSceneOutput, error) {
	var out *model.GetSceneOutput
	err := s.view(ctx, func(tx *barrier.Tx) error {
		ws, _, sc, err := s.sceneIn(ctx, tx, in.WorkspaceId, in.SceneId)
		if err != nil {
			return err
		}
		out = &model.GetSceneOutput{
			WorkspaceId:      model.String(ws.ID),
			SceneId:          model.String(sc.ID),
			ContentLocation:  model.String(sc.ContentLocation),
			Arn:              model.String(s.sceneARN(ws.ID, sc.ID)),
			CreationDateTime: ts(sc.Created),
			UpdateDateTime:   ts(sc.Updated),
			Description:      sc.Description,
			Capabilities:     sc.Capabilities,
			SceneMetadata:    sc.Metadata,
		}
		return nil
	})
	return out, err
}

func (s *Service) UpdateScene(ctx context.Context, in *model.UpdateSceneInput) (*model.UpdateSceneOutput, error) {
	if err := s.checkSceneContent(ctx, in.WorkspaceId, in.ContentLocation); err != nil {
		return nil, err
	}
	now := s.timestamp()
	err := s.update(ctx, func(tx *barrier.Tx) error {
		_, v, sc, err := s.sceneIn(ctx, tx, in.WorkspaceId, in.SceneId)
		if err != nil {
			return err
		}
		if in.ContentLocation != nil {
			sc.ContentLocation = *in.ContentLocation
		}
		if in.Description != nil {
			sc.Description = in.Description
		}
		if in.Capabilities != nil {
			sc.Capabilities = in.Capabilities
		}
		if in.SceneMetadata != nil {
			sc.Metadata = in.SceneMetadata
		}
		sc.Updated = now
		return putJSON(tx, v, sceneKey(v, sc.ID), sc)
	})
	if err != nil {
		return nil, err
	}
	return &model.UpdateSceneOutput{UpdateDateTime: ts(now)}, nil
}

func (s *Service) DeleteScene(ctx context.Context, in *model.DeleteSceneInput) (*model.DeleteSceneOutput, error) {
	err := s.update(ctx, func(tx *barrier.Tx) error {
		_, v, sc, err := s.sceneIn(ctx, tx, in.WorkspaceId, in.SceneId)
		if err != nil {
			return err
		}
		return tx.Delete(v, sceneKey(v, sc.ID))
	})
	if err != nil {
		return nil, err
	}
	return &model.DeleteSceneOutput{}, nil
}

func (s *Service) ListScenes(ctx context.Context, in *model.ListScenesInput) (*model.ListScenesOutput, error) {
	p := pager{sys: s.b.System(), scope: "ListScenes\x00" + in.WorkspaceId}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListScenesOutput{SceneSummaries: []model.SceneSummary{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		next, err = scanPage(tx, v, []byte("sc/"), after, pageSize(in.MaxResults, 25), func(_, val []byte) (bool, error) {
			var sc scene
			if err := decode(val, &sc); err != nil {
				return false, err
			}
			out.SceneSummaries = append(out.SceneSummaries, model.SceneSummary{
				SceneId:          model.String(sc.ID),
				ContentLocation:  model.String(sc.ContentLocation),
				Arn:              model.String(s.sceneARN(ws.ID, sc.ID)),
				CreationDateTime: ts(sc.Created),
				UpdateDateTime:   ts(sc.Updated),
				Description:      sc.Description,
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

// checkSceneContent checks a scene's new contentLocation, if any, against
// its workspace's bucket.
func (s *Service) checkSceneContent(ctx context.Context, wsID string, location *string) error {
	if location == nil || s.buckets == nil {
		return nil
	}
	var ws *workspace
	err := s.view(ctx, func(tx *barrier.Tx) error {
		var err error
		ws, _, err = s.loadWorkspace(ctx, tx, wsID)
		return err
	})
	if err != nil {
		return err
	}
	return s.checkContent(ctx, ws, *location)
}
