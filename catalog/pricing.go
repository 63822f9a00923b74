package catalog

import (
	"context"
	"strconv"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
)

// pricing is the stored pricing plan. A self-hosted server bills nobody;
// the plan is kept so that clients which read or set it keep working.
type pricing struct {
	Mode      model.PricingMode  `json:"mode"`
	Bundles   []string           `json:"bundles,omitempty"`
	Reason    model.UpdateReason `json:"reason"`
	Effective time.Time          `json:"effective"`
	Updated   time.Time          `json:"updated"`
}

var pricingKey = []byte("pricing")

func (s *Service) loadPricing(tx *barrier.Tx) (*pricing, error) {
	var p pricing
	ok, err := getJSON(tx, s.b.System(), pricingKey, &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		epoch := time.Date(2021, 11, 29, 0, 0, 0, 0, time.UTC)
		return &pricing{Mode: model.PricingModeBasic, Reason: model.UpdateReasonDefault, Effective: epoch, Updated: epoch}, nil
	}
	return &p, nil
}

// billableEntities counts the entities of every workspace.
func (s *Service) billableEntities(ctx context.Context, tx *barrier.Tx) (int64, error) {
	var total int64
	err := tx.Scan(s.b.System(), kv.Prefix([]byte("ws/")), func(_, val []byte) error {
		var ws workspace
		if err := decode(val, &ws); err != nil {
			return err
		}
		v, err := tx.View(ws.ViewID)
		if err != nil {
			return err
		}
		data, err := tx.Get(v, entityCountKey)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(data), 10, 64)
		total += n
		return err
	})
	return total, err
}

func (s *Service) planResponse(ctx context.Context, tx *barrier.Tx, p *pricing) (*model.PricingPlan, error) {
	n, err := s.billableEntities(ctx, tx)
	if err != nil {
		return nil, err
	}
	plan := &model.PricingPlan{
		BillableEntityCount: model.Int64(n),
		EffectiveDateTime:   ts(p.Effective),
		PricingMode:         p.Mode,
		UpdateDateTime:      ts(p.Updated),
		UpdateReason:        p.Reason,
	}
	if p.Mode == model.PricingModeTieredBundle {
		plan.BundleInformation = &model.BundleInformation{BundleNames: p.Bundles, PricingTier: model.PricingTierTier1}
	}
	return plan, nil
}

func (s *Service) GetPricingPlan(ctx context.Context, in *model.GetPricingPlanInput) (*model.GetPricingPlanOutput, error) {
	out := &model.GetPricingPlanOutput{}
	err := s.view(ctx, func(tx *barrier.Tx) error {
		p, err := s.loadPricing(tx)
		if err != nil {
			return err
		}
		out.CurrentPricingPlan, err = s.planResponse(ctx, tx, p)
		return err
	})
	return out, err
}

func (s *Service) UpdatePricingPlan(ctx context.Context, in *model.UpdatePricingPlanInput) (*model.UpdatePricingPlanOutput, error) {
	if in.PricingMode == model.PricingModeTieredBundle && len(in.BundleNames) == 0 {
		return nil, invalid("bundleNames: the TIERED_BUNDLE pricing mode requires bundle names")
	}
	if in.PricingMode != model.PricingModeTieredBundle && len(in.BundleNames) > 0 {
		return nil, invalid("bundleNames: only the TIERED_BUNDLE pricing mode takes bundle names")
	}
	out := &model.UpdatePricingPlanOutput{}
	now := s.timestamp()
	err := s.update(ctx, func(tx *barrier.Tx) error {
		p := &pricing{Mode: in.PricingMode, Bundles: in.BundleNames, Reason: model.UpdateReasonPricingModeUpdate, Effective: now, Updated: now}
		if err := putJSON(tx, s.b.System(), pricingKey, p); err != nil {
			return err
		}
		var err error
		out.CurrentPricingPlan, err = s.planResponse(ctx, tx, p)
		return err
	})
	return out, err
}
