package web

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the API's OpenAPI 3 description; tests hold it against real
// responses.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return openapiJSON }

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openapiJSON)
	return nil
}
