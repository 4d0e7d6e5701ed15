package models_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun"
)

// importCSV uploads data for sc's organization and runs it to the end.
func importCSV(t testing.TB, st *models.Store, sc models.Scope, data string, in models.ImportInput) *models.Import {
	t.Helper()
	ctx := context.Background()
	in.Data, in.Start = []byte(data), true
	im, err := st.CreateImport(ctx, sc, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RunImport(ctx, im.ID, nil); err != nil {
		t.Fatal(err)
	}
	im, err = st.ImportByID(ctx, sc, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func recipientBy(t testing.TB, st *models.Store, orgID int64, col, val string) *models.Recipient {
	t.Helper()
	r := new(models.Recipient)
	if err := st.DB().NewSelect().Model(r).Where("org_id = ? AND ? = ?", orgID, bun.Ident(col), val).Scan(context.Background()); err != nil {
		t.Fatalf("recipient %s=%s: %v", col, val, err)
	}
	return r
}

// TestImportRows: bad rows are reported with their row numbers and
// fields, good rows imported with phones in E.164 (the organization's
// default country), rows naming one person merged, and the counts add up.
func TestImportRows(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-rows")
	data := "\ufeffFirst Name;Last Name;Mobile;E-mail;SMS opt-out;Time zone\n" +
		"Ada;Lovelace;(555) 010-2001;ada@example.com;no;Europe/London\n" + // row 2
		"Bob;;not a phone;bob@example.com;;\n" + // row 3: bad phone
		"Cy;;;cy@@example;;\n" + // row 4: bad email
		";;;;yes;\n" + // row 5: neither phone nor email
		"Ada;Byron;;ADA@example.com;;\n" + // row 6: merged into row 2 by email
		"Dee;;555-010-2002;;maybe;Mars/Base\n" + // row 7: bad opt-out and time zone
		"Eve;;+44 20 7946 0018;eve@example.com;1;\n" // row 8
	im := importCSV(t, st, sc, data, models.ImportInput{Filename: "people.csv"})
	if im.Status != models.ImportDone || im.Total != 7 || im.Imported != 2 || im.Merged != 1 || im.Failed != 4 {
		t.Fatalf("import: %+v", im)
	}
	errs, err := st.ImportErrors(ctx, sc, im.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%d:%s", e.Row, e.Field))
	}
	if want := "3:phone 4:email 5:phone 7:sms_opt_out 7:timezone"; strings.Join(got, " ") != want {
		t.Fatalf("errors %q, want %q (%+v)", strings.Join(got, " "), want, errs)
	}
	ada := recipientBy(t, st, sc.OrgID, "email", "ada@example.com")
	if ada.Name != "Ada Byron" || ada.Phone == nil || *ada.Phone != "+15550102001" || ada.Timezone != "Europe/London" {
		t.Fatalf("ada: %+v", ada)
	}
	eve := recipientBy(t, st, sc.OrgID, "phone", "+442079460018")
	if eve.SMSOptedOutAt == nil || eve.SMSOptOutSource == nil || *eve.SMSOptOutSource != "import" {
		t.Fatalf("eve not opted out by import: %+v", eve)
	}
	hist, err := st.ConsentHistory(ctx, sc, eve.ID)
	if err != nil || len(hist) != 1 || hist[0].Source != "import" || hist[0].Action != models.ConsentOptOut {
		t.Fatalf("eve's consent history: %+v %v", hist, err)
	}

	var report bytes.Buffer
	if err := st.ImportErrorReport(ctx, sc, im.ID, &report); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(report.String()), "\n")
	if len(lines) != 6 || lines[0] != "row,field,message,First Name,Last Name,Mobile,E-mail,SMS opt-out,Time zone" ||
		!strings.HasPrefix(lines[1], "3,phone,") || !strings.HasSuffix(lines[1], ",Bob,,not a phone,bob@example.com,,") {
		t.Fatalf("report:\n%s", report.String())
	}
}

// TestImportMergesWithRecipients: a row with an existing recipient's
// phone or email merges into it (filling what it lacks, never blanking a
// name), a row naming two different recipients is refused, and the
// group gets every imported row.
func TestImportMergesWithRecipients(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-merge")
	old, err := st.CreateRecipient(ctx, sc, models.RecipientInput{Name: strp("Old Name"), Phone: strp("+15550103001")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateRecipient(ctx, sc, models.RecipientInput{Name: strp("Other"), Email: strp("other@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var groupID int64
	if err := st.DB().NewRaw("INSERT INTO groups (org_id, name) VALUES (?, 'Imported') RETURNING id", sc.OrgID).Scan(ctx, &groupID); err != nil {
		t.Fatal(err)
	}
	data := "name,phone,email\n" +
		",555 010 3001,old@example.com\n" + // merges into old, fills the email, keeps the name
		"Clash,+15550103001,other@example.com\n" + // two different recipients
		"New,+15550103003,\n"
	im := importCSV(t, st, sc, data, models.ImportInput{GroupID: &groupID})
	if im.Imported != 1 || im.Merged != 1 || im.Failed != 1 {
		t.Fatalf("import: %+v", im)
	}
	got := recipientBy(t, st, sc.OrgID, "phone", "+15550103001")
	if got.ID != old.ID || got.Name != "Old Name" || got.Email == nil || *got.Email != "old@example.com" {
		t.Fatalf("merged recipient: %+v", got)
	}
	if o := recipientBy(t, st, sc.OrgID, "email", "other@example.com"); o.ID != other.ID || o.Phone != nil {
		t.Fatalf("the clash changed the other recipient: %+v", o)
	}
	var members int
	if err := st.DB().NewRaw("SELECT count(*) FROM group_members WHERE group_id = ?", groupID).Scan(ctx, &members); err != nil || members != 2 {
		t.Fatalf("group members: %d %v", members, err)
	}
	// A name in the file replaces the recipient's.
	im = importCSV(t, st, sc, "name,phone\nNew Name,+15550103001\n", models.ImportInput{})
	if im.Merged != 1 || recipientBy(t, st, sc.OrgID, "phone", "+15550103001").Name != "New Name" {
		t.Fatalf("rename by import: %+v", im)
	}
}

// TestImportNeverOptsIn: re-importing an opted-out recipient with the
// opt-out column saying no leaves them opted out.
func TestImportNeverOptsIn(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-optin")
	importCSV(t, st, sc, "phone,email,sms_opt_out,email_opt_out\n+15550104001,x@example.com,yes,true\n", models.ImportInput{})
	r := recipientBy(t, st, sc.OrgID, "phone", "+15550104001")
	if r.SMSOptedOutAt == nil || r.EmailOptedOutAt == nil {
		t.Fatalf("not opted out: %+v", r)
	}
	im := importCSV(t, st, sc, "phone,email,sms_opt_out,email_opt_out\n+15550104001,x@example.com,no,no\n", models.ImportInput{})
	r2 := recipientBy(t, st, sc.OrgID, "phone", "+15550104001")
	if im.Merged != 1 || r2.SMSOptedOutAt == nil || r2.EmailOptedOutAt == nil || !r2.SMSOptedOutAt.Equal(*r.SMSOptedOutAt) {
		t.Fatalf("re-import opted back in: %+v", r2)
	}
	hist, err := st.ConsentHistory(ctx, sc, r.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
}

// bigCSV is n rows with distinct phones starting at base.
func bigCSV(n int, base int) string {
	var b strings.Builder
	b.WriteString("name,phone,email\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Person %d,+1555%07d,p%d@example.com\n", i, base+i, base+i)
	}
	return b.String()
}

// TestImportCancelMidRun: a cancel after the first staged batch stops the
// run and leaves no recipient behind; the retried task does nothing.
func TestImportCancelMidRun(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-cancel")
	im, err := st.CreateImport(ctx, sc, models.ImportInput{Data: []byte(bigCSV(12000, 10000)), Start: true})
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	err = st.RunImport(ctx, im.ID, func(p *models.Import) {
		batches++
		if batches == 1 {
			if p.Processed == 0 || p.Processed >= p.Total {
				t.Errorf("progress after one batch: %d of %d", p.Processed, p.Total)
			}
			if _, err := st.CancelImport(ctx, sc, im.ID); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches != 1 {
		t.Fatalf("%d batches after the cancel", batches)
	}
	if err := st.RunImport(ctx, im.ID, nil); err != nil { // the task retried
		t.Fatal(err)
	}
	var n, staged int
	if err := st.DB().NewRaw("SELECT count(*) FROM recipients WHERE org_id = ?", sc.OrgID).Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("recipients after cancel: %d %v", n, err)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM import_rows WHERE import_id = ?", im.ID).Scan(ctx, &staged); err != nil || staged != 0 {
		t.Fatalf("staged rows after cancel: %d %v", staged, err)
	}
	got, err := st.ImportByID(ctx, sc, im.ID)
	if err != nil || got.Status != models.ImportCancelled {
		t.Fatalf("status: %+v %v", got, err)
	}
	// Another organization's import is not found.
	if _, err := st.CancelImport(ctx, otherOrgScope(t, st, "import-cancel-2"), im.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another org cancelled: %v", err)
	}
}

// TestImportKilledAndRetried: a run killed while staging is run again by
// the retried task and applies once; a retry after the apply does nothing.
func TestImportKilledAndRetried(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-retry")
	im, err := st.CreateImport(ctx, sc, models.ImportInput{Data: []byte(bigCSV(11000, 20000)), Start: true})
	if err != nil {
		t.Fatal(err)
	}
	killed, kill := context.WithCancel(ctx)
	if err := st.RunImport(killed, im.ID, func(*models.Import) { kill() }); err == nil {
		t.Fatal("the killed run finished")
	}
	for range 2 {
		if err := st.RunImport(ctx, im.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ImportByID(ctx, sc, im.ID)
	if err != nil || got.Status != models.ImportDone || got.Imported != 11000 || got.Merged != 0 || got.Failed != 0 {
		t.Fatalf("import: %+v %v", got, err)
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM recipients WHERE org_id = ?", sc.OrgID).Scan(ctx, &n); err != nil || n != 11000 {
		t.Fatalf("recipients: %d %v", n, err)
	}
}

// TestImport100k: 100,000 rows import (the time is logged; BENCHMARKS.md).
func TestImport100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 rows")
	}
	st := openStore(t)
	sc := otherOrgScope(t, st, "import-100k")
	start := time.Now()
	im := importCSV(t, st, sc, bigCSV(100_000, 1_000_000), models.ImportInput{})
	t.Logf("100,000-row import: %s", time.Since(start).Round(time.Millisecond))
	if im.Status != models.ImportDone || im.Imported != 100_000 {
		t.Fatalf("import: %+v", im)
	}
}
