package web

import "net/http"

// vapidPublicKey answers the application server key a page passes to
// pushManager.subscribe; it is public, as every page that subscribes
// needs it before anything else.
func (s *Server) vapidPublicKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.Push.VAPIDPublicKey(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, k)
	return nil
}
