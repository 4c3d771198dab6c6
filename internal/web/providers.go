package web

import (
	"context"
	"net/http"

	"qorgan/internal/auth"
	"qorgan/internal/registry"
)

// Security providers, their contracts with schools, and police units.

type contractRequest struct {
	ProviderID int64  `json:"provider_id"`
	SchoolID   int64  `json:"school_id"`
	StartsOn   string `json:"starts_on"`
	EndsOn     string `json:"ends_on,omitempty"`
}

func (s *Server) createContract(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyForPerson(http.StatusCreated, func(ctx context.Context, p auth.Principal, in contractRequest) (registry.Contract, error) {
		return s.Registry.CreateContract(ctx, p, registry.Contract{ProviderID: in.ProviderID, SchoolID: in.SchoolID, StartsOn: in.StartsOn, EndsOn: in.EndsOn})
	})(w, r, p)
}

type policeUnitRequest struct {
	NameKK       string `json:"name_kk"`
	NameRU       string `json:"name_ru"`
	RegionCode   string `json:"region_code"`
	DistrictCode string `json:"district_code,omitempty"`
}

func (s *Server) createPoliceUnit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	return bodyForPerson(http.StatusCreated, func(ctx context.Context, p auth.Principal, in policeUnitRequest) (registry.PoliceUnit, error) {
		return s.Registry.CreatePoliceUnit(ctx, p, registry.PoliceUnit{NameKK: in.NameKK, NameRU: in.NameRU, RegionCode: in.RegionCode, DistrictCode: in.DistrictCode})
	})(w, r, p)
}
