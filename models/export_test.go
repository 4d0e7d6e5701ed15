package models

// SetFollowUp lets tests give the inbound core a follow-up hook.
func (s *Store) SetFollowUp(f FollowUpFunc) { s.followUp = f }
