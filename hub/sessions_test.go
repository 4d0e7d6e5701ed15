package hub

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// TestEndSessionsEveryNode: ending one login ends its sockets on every
// node at once, and only its; ending all of a user's logins ends the rest.
func TestEndSessionsEveryNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broker := NewMemoryBroker()
		a := New(Config{Broker: broker})
		b := New(Config{Broker: broker})
		defer closeHub(t, b)
		defer closeHub(t, a)
		login10A := a.NewSubscriber(Member{UserID: 1, Session: 10}, 0)
		login10B := b.NewSubscriber(Member{UserID: 1, Session: 10}, 0)
		login11B := b.NewSubscriber(Member{UserID: 1, Session: 11}, 0)
		other := b.NewSubscriber(Member{UserID: 2, Session: 10}, 0)
		for _, s := range []*Subscriber{login10A, login10B, login11B, other} {
			join(t, s.hub, "loc:1", s)
		}
		synctest.Wait()

		n, err := a.EndSessions(context.Background(), 1, 10)
		if err != nil || n != 1 {
			t.Fatalf("EndSessions(1, 10) on A = %d, %v; want 1 ended here", n, err)
		}
		synctest.Wait()
		for name, s := range map[string]*Subscriber{"login 10 on A": login10A, "login 10 on B": login10B} {
			if !errors.Is(s.Err(), ErrSignedOut) {
				t.Errorf("%s: Err() = %v, want ErrSignedOut", name, s.Err())
			}
			if _, err := s.Next(context.Background()); !errors.Is(err, ErrSignedOut) {
				t.Errorf("%s: Next error = %v, want ErrSignedOut", name, err)
			}
		}
		for name, s := range map[string]*Subscriber{"login 11": login11B, "user 2": other} {
			if err := s.Err(); err != nil {
				t.Errorf("%s ended: %v", name, err)
			}
		}
		if m := membersOf(t, a, "loc:1"); len(m) != 0 {
			t.Errorf("loc:1 on A still has %v", m)
		}

		if n, err := a.EndSessions(context.Background(), 1, 0); err != nil || n != 0 {
			t.Fatalf("EndSessions(1, 0) on A = %d, %v; want 0 here", n, err)
		}
		synctest.Wait()
		if !errors.Is(login11B.Err(), ErrSignedOut) {
			t.Errorf("login 11: Err() = %v after all of user 1's logins ended, want ErrSignedOut", login11B.Err())
		}
		if err := other.Err(); err != nil {
			t.Errorf("user 2 ended: %v", err)
		}
		if m := membersOf(t, b, "loc:1"); len(m) != 1 || m[0].UserID != 2 {
			t.Errorf("loc:1 on B = %v, want only user 2", m)
		}
		if err := a.Publish(context.Background(), Event{Topic: endSessionsTopic, Frame: encodeEndSessions(2, 0)}); err == nil {
			t.Error("Publish on the reserved topic was accepted")
		}
		if st := b.Stats(); st.BrokerErrors != 0 {
			t.Errorf("node B stats = %+v", st)
		}
	})
}

func TestEndSessionsCodec(t *testing.T) {
	for _, c := range [][2]int64{{1, 0}, {1 << 40, 7}, {-3, 1 << 62}} {
		u, s, err := decodeEndSessions(encodeEndSessions(c[0], c[1]))
		if err != nil || u != c[0] || s != c[1] {
			t.Errorf("round trip %v = %d, %d, %v", c, u, s, err)
		}
	}
	for _, bad := range [][]byte{nil, {0x80}, {2}, {2, 4, 6}} {
		if _, _, err := decodeEndSessions(bad); err == nil {
			t.Errorf("decode %x: no error", bad)
		}
	}
}
