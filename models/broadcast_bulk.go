package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// What the broadcast pages need beside the engine's methods
// (broadcast_api.go): the groups a compose form offers, the names of
// broadcasts that conversations are marked with, and the reply
// dashboard's bulk actions on the chats the replies opened.

// BroadcastGroup is a group as the compose form offers it.
type BroadcastGroup struct {
	ID      int64  `bun:"id"`
	Name    string `bun:"name"`
	Members int    `bun:"members"`
}

// BroadcastGroups lists the organization's groups with their member
// counts, by name, for the compose form's audience.
func (s *Store) BroadcastGroups(ctx context.Context, sc Scope) ([]BroadcastGroup, error) {
	if !sc.Can(PermBroadcast) {
		return nil, ErrNotFound
	}
	var out []BroadcastGroup
	err := s.db.NewRaw(`SELECT g.id, g.name, (SELECT count(*) FROM group_members AS m WHERE m.group_id = g.id) AS members
		FROM groups AS g WHERE g.org_id = ? ORDER BY lower(g.name), g.id`, sc.OrgID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: broadcast groups: %w", err)
	}
	return out, nil
}

// BroadcastNames is the names of the organization's broadcasts among ids
// (those of another organization are left out). A broadcast's name does not
// change once it is sent, so callers may keep what this returns.
func (s *Store) BroadcastNames(ctx context.Context, orgID int64, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := s.db.NewRaw(`SELECT id, name FROM broadcasts WHERE org_id = ? AND id = ANY(?)`,
		orgID, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: broadcast names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// BroadcastBulk is one bulk action on a broadcast's reply chats: the
// conversations it changed, and how many of those asked for it could not
// be changed (the user may not see their inbox, or the assignee may not).
type BroadcastBulk struct {
	Changes []*Change
	Skipped int
}

// AssignBroadcastChats gives the chats the broadcast's replies opened to
// a team member (0: nobody). convIDs narrows them (none: every reply
// chat); an id that is not one of the broadcast's reply chats is ignored.
// Each chat goes through Assign, so its rules, events and live changes
// are the ones a single assignment has.
func (s *Store) AssignBroadcastChats(ctx context.Context, sc Scope, broadcastID, assigneeID int64, convIDs []int64) (*BroadcastBulk, error) {
	return s.bulkBroadcastChats(ctx, sc, broadcastID, convIDs, func(id int64) (*Change, error) {
		return s.Assign(ctx, sc, id, assigneeID)
	})
}

// CloseBroadcastChats closes the chats the broadcast's replies opened
// (convIDs narrows them as for AssignBroadcastChats).
func (s *Store) CloseBroadcastChats(ctx context.Context, sc Scope, broadcastID int64, convIDs []int64) (*BroadcastBulk, error) {
	return s.bulkBroadcastChats(ctx, sc, broadcastID, convIDs, func(id int64) (*Change, error) {
		return s.Close(ctx, sc, id)
	})
}

// bulkBroadcastChats runs act on each reply chat of the broadcast that
// convIDs names (all when empty). Each chat is its own transaction, as a
// person doing it one by one would be: one chat the user may not see does
// not undo the others.
func (s *Store) bulkBroadcastChats(ctx context.Context, sc Scope, broadcastID int64, convIDs []int64,
	act func(id int64) (*Change, error)) (*BroadcastBulk, error) {
	if !sc.Can(PermBroadcast) {
		return nil, ErrNotFound
	}
	page, err := s.BroadcastReplies(ctx, sc, broadcastID, BroadcastReplyFilter{State: ReplyStateReplied, Limit: -1})
	if err != nil {
		return nil, err
	}
	want := make(map[int64]bool, len(convIDs))
	for _, id := range convIDs {
		want[id] = true
	}
	seen := map[int64]bool{}
	out := &BroadcastBulk{}
	for _, r := range page.Rows {
		if r.ConversationID == nil || seen[*r.ConversationID] || (len(want) > 0 && !want[*r.ConversationID]) {
			continue
		}
		id := *r.ConversationID
		seen[id] = true
		ch, err := act(id)
		var fe *FieldError
		switch {
		case errors.Is(err, ErrNotFound), errors.As(err, &fe):
			out.Skipped++
			continue
		case err != nil:
			return out, err
		}
		if len(ch.Events) > 0 {
			out.Changes = append(out.Changes, ch)
		}
	}
	return out, nil
}
