package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley/models"
)

// BenchmarkReceiveBatch stores inbound messages in group commits of
// several sizes, over 5,000 senders, from one caller: the database cost
// per message of the batched path, without HTTP. Size 1 is the worst case
// (an idle system, where every message commits alone).
func BenchmarkReceiveBatch(b *testing.B) {
	st, _, _, _ := chatFixture(b)
	ctx := context.Background()
	n := 0
	for _, size := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			batch := make([]models.InboundSMS, size)
			for i := 0; i < b.N; i++ {
				for j := range batch {
					n++
					batch[j] = sms(fmt.Sprintf("bb-%d", n), fmt.Sprintf("+1555031%04d", n%5000), "benchmark message")
				}
				if _, err := st.ReceiveBatch(ctx, inbound(batch...)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
