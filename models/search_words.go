package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Whether a search's words are common decides how it runs
// (listMessageMatches): a common word is found soonest by walking the
// newest conversations, a rare one by the index. ANALYZE keeps the most
// common words of messages_body_search_idx (10 per unit of its statistics
// target, 10,000 here) with their frequencies; a word it did not keep is
// rarer than all of them. The list is read from pg_stats at most once per
// commonWordsTTL per process.
const commonWordsTTL = 5 * time.Minute

// commonWordCache holds the common words, sorted; its zero value is ready.
type commonWordCache struct {
	mu    sync.Mutex
	at    time.Time
	words []string
}

// get returns the sorted common words, reading them again when stale.
func (c *commonWordCache) get(ctx context.Context, s *Store) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < commonWordsTTL {
		return c.words, nil
	}
	var words []string
	rows, err := s.db.DB.QueryContext(ctx, `SELECT unnest(most_common_elems::text::text[])
		FROM pg_stats WHERE tablename = 'messages_body_search_idx' AND schemaname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("common words: %w", err)
	}
	err = scanAll(rows, func() error {
		var w string
		if err := rows.Scan(&w); err != nil {
			return err
		}
		words = append(words, w)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("common words: %w", err)
	}
	slices.Sort(words)
	c.words, c.at = words, time.Now()
	return words, nil
}

// isCommon reports whether every term of the search is a common word (a
// prefix term: starts one): only then is walking worth it, since the
// messages must hold every term.
func isCommon(words []string, terms []textTerm) bool {
	if len(terms) == 0 || len(words) == 0 {
		return false
	}
	for _, t := range terms {
		i, found := slices.BinarySearch(words, t.Word)
		if found {
			continue
		}
		if !t.Prefix || i == len(words) || !strings.HasPrefix(words[i], t.Word) {
			return false
		}
	}
	return true
}
