package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type dashboard struct{ s *Store }

// Dashboard returns the Dashboard API sandbox's estate.
func (s *Store) Dashboard() store.Dashboard { return dashboard{s} }

// insertBatch is how many rows one multi-row INSERT carries on
// PostgreSQL when seeding: one round trip per batch, well under its 65535
// bind parameters. SQLite has no round trips, and its driver binds $N
// parameters in time quadratic in their number, so there one prepared
// single-row INSERT is reused instead.
const insertBatch = 400

// padList stores a list searchable with LIKE '% item %' (see 0002_dashboard.sql).
func padList(l []string) string { return " " + strings.Join(l, " ") + " " }

func unpadList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}
	}
	return strings.Fields(s)
}

// likeEscaper escapes LIKE's wildcards (tags and names may contain "_");
// every pattern is used with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likeItem is the LIKE pattern matching a padded list holding item.
func likeItem(item string) string { return "% " + likeEscaper.Replace(item) + " %" }

// likeContains is the LIKE pattern matching text that contains s.
func likeContains(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = w.arg(v)
	}
	w.add(col + " IN (" + strings.Join(ph, ", ") + ")")
}

// hasAny (or hasAll) matches a padded list column against items.
func (w *where) has(col string, items []string, all bool) {
	if len(items) == 0 {
		return
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = col + " LIKE " + w.arg(likeItem(it)) + ` ESCAPE '\'`
	}
	sep := " OR "
	if all {
		sep = " AND "
	}
	w.add("(" + strings.Join(parts, sep) + ")")
}

// page adds keyset pagination on key and returns the ORDER BY and LIMIT
// tail; with EndingBefore rows come back in descending order and the
// caller reverses them.
func (w *where) page(key string, p store.Page) (tail string, desc bool) {
	if p.StartingAfter != "" {
		w.add(key + " > " + w.arg(p.StartingAfter))
	}
	if p.EndingBefore != "" {
		w.add(key + " < " + w.arg(p.EndingBefore))
		desc = true
	}
	tail = " ORDER BY " + key
	if desc {
		tail += " DESC"
	}
	if p.Limit > 0 {
		tail += " LIMIT " + itoa(p.Limit)
	}
	return tail, desc
}

func (d dashboard) RenameOrganization(ctx context.Context, id, name string) error {
	res, err := d.s.w.ExecContext(ctx, `UPDATE organizations SET name = $2 WHERE id = $1`, id, name)
	return affected(res, err)
}

func (d dashboard) DeleteOrganization(ctx context.Context, id string, at time.Time) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT account_id FROM memberships WHERE org_id = $1`, id)
		if err != nil {
			return err
		}
		var accounts []string
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return err
			}
			accounts = append(accounts, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM organizations WHERE id = $1`, id)
		if err := affected(res, err); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM dashboard_resources WHERE org_id = $1`, `DELETE FROM api_usage WHERE org_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		for _, a := range accounts {
			if err := publish(ctx, tx, store.ChangeMembership, id+"/"+a, at); err != nil {
				return err
			}
		}
		return publish(ctx, tx, store.ChangeNetworks, id, at)
	})
}

// --- networks

const networkCols = `id, org_id, name, product_types, time_zone, tags, notes, enrollment_string, created_at, updated_at`

func scanNetwork(row interface{ Scan(...any) error }) (store.Network, error) {
	var n store.Network
	var pts, tags string
	var created, updated int64
	err := row.Scan(&n.ID, &n.OrgID, &n.Name, &pts, &n.TimeZone, &tags, &n.Notes, &n.EnrollmentString, &created, &updated)
	n.ProductTypes, n.Tags = unpadList(pts), unpadList(tags)
	n.CreatedAt, n.UpdatedAt = fromUSv(created), fromUSv(updated)
	return n, err
}

func networkArgs(n store.Network) []any {
	return []any{n.ID, n.OrgID, n.Name, padList(n.ProductTypes), n.TimeZone, padList(n.Tags), n.Notes,
		n.EnrollmentString, usv(n.CreatedAt), usv(n.UpdatedAt)}
}

func (d dashboard) CreateNetwork(ctx context.Context, n store.Network) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO networks (`+networkCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, networkArgs(n)...)
		if err != nil {
			return notFoundFK(conflictOr(err))
		}
		return publish(ctx, tx, store.ChangeNetworks, n.OrgID, n.UpdatedAt)
	})
}

func (d dashboard) CreateNetworks(ctx context.Context, ns []store.Network) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		if err := d.insertRows(ctx, tx, "networks", networkCols, 10, len(ns), func(i int) []any { return networkArgs(ns[i]) }); err != nil {
			return err
		}
		orgs := map[string]time.Time{}
		for _, n := range ns {
			orgs[n.OrgID] = n.UpdatedAt
		}
		for org, at := range orgs {
			if err := publish(ctx, tx, store.ChangeNetworks, org, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertRows inserts n rows of width columns.
func (d dashboard) insertRows(ctx context.Context, tx *sql.Tx, table, cols string, width, n int, args func(i int) []any) error {
	batch := insertBatch
	if d.s.dialect == "sqlite" {
		batch = 1
	}
	values := func(rows int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range width {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + itoa(r*width+j+1))
			}
			b.WriteString(")")
		}
		return b.String()
	}
	var full *sql.Stmt
	if n >= batch {
		st, err := tx.PrepareContext(ctx, values(batch))
		if err != nil {
			return err
		}
		defer st.Close()
		full = st
	}
	for start := 0; start < n; start += batch {
		end := min(n, start+batch)
		all := make([]any, 0, (end-start)*width)
		for i := start; i < end; i++ {
			all = append(all, args(i)...)
		}
		var err error
		if end-start == batch {
			_, err = full.ExecContext(ctx, all...)
		} else {
			_, err = tx.ExecContext(ctx, values(end-start), all...)
		}
		if err != nil {
			return notFoundFK(conflictOr(err))
		}
	}
	return nil
}

func (d dashboard) GetNetwork(ctx context.Context, id string) (store.Network, error) {
	n, err := scanNetwork(d.s.r.QueryRowContext(ctx, `SELECT `+networkCols+` FROM networks WHERE id = $1`, id))
	return n, notFound(err)
}

func (d dashboard) ListNetworks(ctx context.Context, f store.NetworkFilter) ([]store.Network, error) {
	var w where
	w.add("org_id = " + w.arg(f.OrgID))
	w.in("id", f.IDs)
	w.has("product_types", f.ProductTypes, false)
	w.has("tags", f.Tags, f.TagsAll)
	tail, desc := w.page("id", f.Page)
	rows, err := d.s.r.QueryContext(ctx, `SELECT `+networkCols+` FROM networks`+w.String()+tail, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Network{}
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if desc {
		slices.Reverse(out)
	}
	return out, rows.Err()
}

func (d dashboard) UpdateNetwork(ctx context.Context, id string, update func(*store.Network) error) (store.Network, error) {
	var out store.Network
	err := d.s.tx(ctx, func(tx *sql.Tx) error {
		n, err := scanNetwork(tx.QueryRowContext(ctx, `SELECT `+networkCols+` FROM networks WHERE id = $1`+d.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		org, created := n.OrgID, n.CreatedAt
		if err := update(&n); err != nil {
			return err
		}
		n.ID, n.OrgID, n.CreatedAt = id, org, created
		_, err = tx.ExecContext(ctx, `UPDATE networks SET name = $3, product_types = $4, time_zone = $5, tags = $6, notes = $7,
			enrollment_string = $8, updated_at = $10 WHERE id = $1 AND org_id = $2 AND created_at = $9`, networkArgs(n)...)
		if err != nil {
			return conflictOr(err)
		}
		out = n
		return publish(ctx, tx, store.ChangeNetworks, org, n.UpdatedAt)
	})
	return out, err
}

func (d dashboard) DeleteNetwork(ctx context.Context, id string) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		var org string
		if err := tx.QueryRowContext(ctx, `SELECT org_id FROM networks WHERE id = $1`+d.s.forUpdate, id).Scan(&org); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM networks WHERE id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET network_id = '' WHERE network_id = $1`, id); err != nil {
			return err
		}
		if err := deleteResourcesUnder(ctx, tx, org, "/networks/"+id); err != nil {
			return err
		}
		return publish(ctx, tx, store.ChangeNetworks, org, time.Time{})
	})
}

// deleteResourcesUnder removes the resource at prefix and everything below it.
func deleteResourcesUnder(ctx context.Context, tx *sql.Tx, org, prefix string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM dashboard_resources WHERE org_id = $1 AND (path = $2 OR substr(path, 1, $3) = $4)`,
		org, prefix, len(prefix)+1, prefix+"/")
	return err
}

// --- devices

const deviceCols = `serial, org_id, network_id, name, model, mac, product_type, address, lat, lng, notes, tags,
	lan_ip, public_ip, firmware, status, last_reported_at, claimed_at, updated_at`

func scanDevice(row interface{ Scan(...any) error }) (store.Device, error) {
	var d store.Device
	var tags string
	var reported sql.NullInt64
	var claimed, updated int64
	err := row.Scan(&d.Serial, &d.OrgID, &d.NetworkID, &d.Name, &d.Model, &d.MAC, &d.ProductType, &d.Address,
		&d.Lat, &d.Lng, &d.Notes, &tags, &d.LanIP, &d.PublicIP, &d.Firmware, &d.Status, &reported, &claimed, &updated)
	d.Tags = unpadList(tags)
	d.LastReportedAt, d.ClaimedAt, d.UpdatedAt = fromUS(reported), fromUSv(claimed), fromUSv(updated)
	return d, err
}

func deviceArgs(d store.Device) []any {
	return []any{d.Serial, d.OrgID, d.NetworkID, d.Name, d.Model, d.MAC, d.ProductType, d.Address, d.Lat, d.Lng,
		d.Notes, padList(d.Tags), d.LanIP, d.PublicIP, d.Firmware, d.Status, us(d.LastReportedAt), usv(d.ClaimedAt), usv(d.UpdatedAt)}
}

func (d dashboard) PutDevices(ctx context.Context, ds []store.Device) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		return d.insertRows(ctx, tx, "devices", deviceCols, 19, len(ds), func(i int) []any { return deviceArgs(ds[i]) })
	})
}

func (d dashboard) GetDevice(ctx context.Context, serial string) (store.Device, error) {
	dev, err := scanDevice(d.s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE serial = $1`, serial))
	return dev, notFound(err)
}

func (d dashboard) ListDevices(ctx context.Context, f store.DeviceFilter) ([]store.Device, error) {
	var w where
	w.add("org_id = " + w.arg(f.OrgID))
	if f.Assigned != nil {
		if *f.Assigned {
			w.add("network_id <> ''")
		} else {
			w.add("network_id = ''")
		}
	}
	w.in("network_id", f.NetworkIDs)
	w.in("serial", f.Serials)
	w.in("mac", f.MACs)
	w.in("model", f.Models)
	w.in("product_type", f.ProductTypes)
	w.in("status", f.Statuses)
	w.has("tags", f.Tags, f.TagsAll)
	if f.Name != "" {
		w.add("name = " + w.arg(f.Name))
	}
	if f.MAC != "" {
		w.add("mac = " + w.arg(f.MAC))
	}
	if f.Search != "" {
		// In the query, not after it, so that pages hold perPage matches.
		w.add("LOWER(serial || ' ' || name || ' ' || mac || ' ' || model) LIKE " + w.arg(likeContains(strings.ToLower(f.Search))) + ` ESCAPE '\'`)
	}
	tail, desc := w.page("serial", f.Page)
	rows, err := d.s.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices`+w.String()+tail, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Device{}
	for rows.Next() {
		dev, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, dev)
	}
	if desc {
		slices.Reverse(out)
	}
	return out, rows.Err()
}

func (d dashboard) UpdateDevice(ctx context.Context, serial string, update func(*store.Device) error) (store.Device, error) {
	var out store.Device
	err := d.s.tx(ctx, func(tx *sql.Tx) error {
		dev, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE serial = $1`+d.s.forUpdate, serial))
		if err != nil {
			return notFound(err)
		}
		org, claimed := dev.OrgID, dev.ClaimedAt
		if err := update(&dev); err != nil {
			return err
		}
		dev.Serial, dev.OrgID, dev.ClaimedAt = serial, org, claimed
		_, err = tx.ExecContext(ctx, `UPDATE devices SET network_id = $3, name = $4, model = $5, mac = $6, product_type = $7,
			address = $8, lat = $9, lng = $10, notes = $11, tags = $12, lan_ip = $13, public_ip = $14, firmware = $15,
			status = $16, last_reported_at = $17, updated_at = $19 WHERE serial = $1 AND org_id = $2 AND claimed_at = $18`, deviceArgs(dev)...)
		if err != nil {
			return err
		}
		out = dev
		return nil
	})
	return out, err
}

func (d dashboard) DeleteDevice(ctx context.Context, serial string) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		var org string
		if err := tx.QueryRowContext(ctx, `SELECT org_id FROM devices WHERE serial = $1`+d.s.forUpdate, serial).Scan(&org); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE serial = $1`, serial); err != nil {
			return err
		}
		return deleteResourcesUnder(ctx, tx, org, "/devices/"+serial)
	})
}

// --- generic resources

const resourceCols = `org_id, path, parent, body, deleted, updated_at`

func scanResource(row interface{ Scan(...any) error }) (store.Resource, error) {
	var r store.Resource
	var body string
	var updated int64
	err := row.Scan(&r.OrgID, &r.Path, &r.Parent, &body, &r.Deleted, &updated)
	r.Body, r.UpdatedAt = []byte(body), fromUSv(updated)
	return r, err
}

func (d dashboard) GetResource(ctx context.Context, orgID, path string) (store.Resource, error) {
	r, err := scanResource(d.s.r.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM dashboard_resources WHERE org_id = $1 AND path = $2`, orgID, path))
	return r, notFound(err)
}

func (d dashboard) UpdateResource(ctx context.Context, orgID, path string, update func(cur store.Resource, found bool) (store.Resource, error)) (store.Resource, error) {
	var out store.Resource
	err := d.s.tx(ctx, func(tx *sql.Tx) error {
		// A placeholder row (empty body) gives PostgreSQL a row to lock when
		// the resource is new, so two first writes serialise too; it is
		// rolled back with the transaction if update fails.
		if _, err := tx.ExecContext(ctx, `INSERT INTO dashboard_resources (`+resourceCols+`) VALUES ($1, $2, '', '', FALSE, 0)
			ON CONFLICT (org_id, path) DO NOTHING`, orgID, path); err != nil {
			return err
		}
		cur, err := scanResource(tx.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM dashboard_resources WHERE org_id = $1 AND path = $2`+d.s.forUpdate, orgID, path))
		if err != nil {
			return err
		}
		found := len(cur.Body) > 0
		if !found {
			cur = store.Resource{OrgID: orgID, Path: path}
		}
		next, err := update(cur, found)
		if err != nil {
			return err
		}
		next.OrgID, next.Path = orgID, path
		_, err = tx.ExecContext(ctx, `INSERT INTO dashboard_resources (`+resourceCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (org_id, path) DO UPDATE SET parent = excluded.parent, body = excluded.body, deleted = excluded.deleted, updated_at = excluded.updated_at`,
			orgID, path, next.Parent, string(next.Body), next.Deleted, usv(next.UpdatedAt))
		out = next
		return err
	})
	return out, err
}

func (d dashboard) ListResources(ctx context.Context, orgID, parent string) ([]store.Resource, error) {
	rows, err := d.s.r.QueryContext(ctx, `SELECT `+resourceCols+` FROM dashboard_resources WHERE org_id = $1 AND parent = $2 ORDER BY path`, orgID, parent)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// --- API usage

const usageCols = `org_id, minute, client_id, account_id, operation_id, method, status, count, path, query, host, source_ip, user_agent, last_at`

func (d dashboard) AddAPIUsage(ctx context.Context, rows []store.APIUsage) error {
	if len(rows) == 0 {
		return nil
	}
	return d.s.tx(ctx, func(tx *sql.Tx) error {
		for _, u := range rows {
			// The latest request's details win; counts add up.
			_, err := tx.ExecContext(ctx, `INSERT INTO api_usage (`+usageCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				ON CONFLICT (org_id, minute, client_id, account_id, operation_id, method, status) DO UPDATE SET
				count = api_usage.count + excluded.count,
				path = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.path ELSE api_usage.path END,
				query = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.query ELSE api_usage.query END,
				host = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.host ELSE api_usage.host END,
				source_ip = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.source_ip ELSE api_usage.source_ip END,
				user_agent = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.user_agent ELSE api_usage.user_agent END,
				last_at = CASE WHEN excluded.last_at >= api_usage.last_at THEN excluded.last_at ELSE api_usage.last_at END`,
				u.OrgID, usv(u.Minute), u.ClientID, u.AccountID, u.OperationID, u.Method, u.Status, u.Count,
				u.Path, u.Query, u.Host, u.SourceIP, u.UserAgent, usv(u.LastAt))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (d dashboard) ListAPIUsage(ctx context.Context, f store.APIUsageFilter) ([]store.APIUsage, error) {
	var w where
	w.add("org_id = " + w.arg(f.OrgID))
	if !f.From.IsZero() {
		w.add("minute >= " + w.arg(usv(f.From)))
	}
	if !f.To.IsZero() {
		w.add("minute < " + w.arg(usv(f.To)))
	}
	if f.ClientID != "" {
		w.add("client_id = " + w.arg(f.ClientID))
	}
	if f.AccountID != "" {
		w.add("account_id = " + w.arg(f.AccountID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 10000
	}
	rows, err := d.s.r.QueryContext(ctx, `SELECT `+usageCols+` FROM api_usage`+w.String()+
		` ORDER BY minute DESC, last_at DESC, operation_id, client_id, account_id, method, status LIMIT `+itoa(limit), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIUsage
	for rows.Next() {
		var u store.APIUsage
		var minute, last int64
		if err := rows.Scan(&u.OrgID, &minute, &u.ClientID, &u.AccountID, &u.OperationID, &u.Method, &u.Status, &u.Count,
			&u.Path, &u.Query, &u.Host, &u.SourceIP, &u.UserAgent, &last); err != nil {
			return nil, err
		}
		u.Minute, u.LastAt = fromUSv(minute), fromUSv(last)
		out = append(out, u)
	}
	return out, rows.Err()
}

func (d dashboard) PruneAPIUsage(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.s.w.ExecContext(ctx, `DELETE FROM api_usage WHERE minute < $1`, usv(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
