package attendance

// PendingBatches is how many batches wait for the intake's next group
// commit, for tests that need a group formed before it is written.
func PendingBatches(s *Service) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.pending)
}
