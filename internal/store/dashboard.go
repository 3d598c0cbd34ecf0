package store

import (
	"context"
	"time"
)

// ChangeNetworks is published on the change feed whenever an
// organization's networks change (created, updated, deleted); its key is
// the organization id. The Dashboard API caches network lists by it.
const ChangeNetworks = "networks"

// Network is a Meraki network in the Dashboard API sandbox.
type Network struct {
	ID               string // "N_" or "L_" followed by digits
	OrgID            string
	Name             string
	ProductTypes     []string // sorted, e.g. ["appliance", "switch"]
	TimeZone         string
	Tags             []string
	Notes            string
	EnrollmentString string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Device is a Meraki device: claimed into an organization's inventory and,
// once NetworkID is set, assigned to one of its networks.
type Device struct {
	Serial         string // Q2XX-XXXX-XXXX
	OrgID          string
	NetworkID      string // "" while only in the inventory
	Name           string
	Model          string // e.g. "MX68", "MS120-8", "MR36"
	MAC            string
	ProductType    string // appliance, switch, wireless, camera, sensor, cellularGateway
	Address        string
	Lat, Lng       float64
	Notes          string
	Tags           []string
	LanIP          string
	PublicIP       string
	Firmware       string
	Status         string // online, alerting, offline, dormant
	LastReportedAt time.Time
	ClaimedAt      time.Time
	UpdatedAt      time.Time
}

// Page selects a page of rows ordered by their key (network id, serial).
// StartingAfter and EndingBefore are keys (either may be ""); with
// EndingBefore the page is the Limit rows just before it.
type Page struct {
	StartingAfter string
	EndingBefore  string
	Limit         int // 0 means no limit
}

// NetworkFilter selects an organization's networks, ordered by id.
type NetworkFilter struct {
	OrgID        string
	IDs          []string // any of; nil for all
	ProductTypes []string // networks having any of them
	Tags         []string
	TagsAll      bool // every tag instead of any
	Page
}

// DeviceFilter selects an organization's devices, ordered by serial.
type DeviceFilter struct {
	OrgID        string
	Assigned     *bool    // in a network (true), inventory only (false), or both (nil)
	NetworkIDs   []string // any of
	Serials      []string
	Models       []string
	ProductTypes []string
	Statuses     []string
	Tags         []string
	TagsAll      bool
	Name         string   // exact
	MAC          string   // exact, lower-case
	MACs         []string // any of, lower-case
	// Search matches devices whose serial, name, MAC or model contains it,
	// case-insensitively.
	Search string
	Page
}

// Resource is the stored state of a generic Dashboard API resource: the
// JSON body last written to Path within an organization.
type Resource struct {
	OrgID string
	Path  string // concrete API path below /api/v1
	// Parent is the path of the collection this resource is an item of,
	// "" when it is not an item of a collection.
	Parent    string
	Body      []byte // a JSON document
	Deleted   bool   // a tombstone: DELETE answered, GET gives 404
	UpdatedAt time.Time
}

// APIUsage counts Dashboard API requests of one kind in one minute.
type APIUsage struct {
	OrgID       string
	Minute      time.Time // start of the minute
	ClientID    string    // the integration, "" for API keys
	AccountID   string    // the administrator
	OperationID string
	Method      string
	Status      int
	Count       int64
	// The latest request of the kind, for getOrganizationApiRequests.
	Path      string
	Query     string
	Host      string
	SourceIP  string
	UserAgent string
	LastAt    time.Time
}

// APIUsageFilter selects usage rows of one organization, newest first.
type APIUsageFilter struct {
	OrgID     string
	From, To  time.Time // Minute in [From, To)
	ClientID  string    // "" for all
	AccountID string    // "" for all
	Limit     int       // 0 means 10000
}

// Dashboard stores the Dashboard API sandbox's estate: networks, devices,
// generic resources and API usage counters. Every network mutation
// publishes a ChangeNetworks change in its transaction.
type Dashboard interface {
	// RenameOrganization changes an organization's name.
	RenameOrganization(ctx context.Context, id, name string) error
	// DeleteOrganization removes an organization with its memberships
	// (publishing a ChangeMembership change for each), networks, devices,
	// resources and usage counts. Its grants are the caller's business.
	DeleteOrganization(ctx context.Context, id string, at time.Time) error

	CreateNetwork(ctx context.Context, n Network) error // ErrConflict on a taken id or name in the org
	// CreateNetworks inserts many networks in batches (seeding).
	CreateNetworks(ctx context.Context, ns []Network) error
	GetNetwork(ctx context.Context, id string) (Network, error)
	ListNetworks(ctx context.Context, f NetworkFilter) ([]Network, error)
	// UpdateNetwork applies update to the stored network in one transaction.
	// ID, OrgID and CreatedAt cannot change. ErrConflict on a taken name.
	UpdateNetwork(ctx context.Context, id string, update func(*Network) error) (Network, error)
	// DeleteNetwork removes the network and its resources; its devices go
	// back to the inventory.
	DeleteNetwork(ctx context.Context, id string) error

	// PutDevices inserts devices in batches; ErrConflict if a serial exists.
	PutDevices(ctx context.Context, ds []Device) error
	GetDevice(ctx context.Context, serial string) (Device, error)
	ListDevices(ctx context.Context, f DeviceFilter) ([]Device, error)
	// UpdateDevice applies update in one transaction. Serial, OrgID and
	// ClaimedAt cannot change.
	UpdateDevice(ctx context.Context, serial string, update func(*Device) error) (Device, error)
	// DeleteDevice removes a device from its organization (and its resources).
	DeleteDevice(ctx context.Context, serial string) error

	GetResource(ctx context.Context, orgID, path string) (Resource, error)
	// UpdateResource reads the resource at path (found is false if there is
	// none) and stores what update returns, in one transaction.
	UpdateResource(ctx context.Context, orgID, path string, update func(cur Resource, found bool) (Resource, error)) (Resource, error)
	// ListResources returns the items of a collection, tombstones included,
	// ordered by path.
	ListResources(ctx context.Context, orgID, parent string) ([]Resource, error)

	// AddAPIUsage adds the counts of rows to the stored ones (same key:
	// org, minute, client, account, operation, method, status) and keeps
	// the latest request's details.
	AddAPIUsage(ctx context.Context, rows []APIUsage) error
	ListAPIUsage(ctx context.Context, f APIUsageFilter) ([]APIUsage, error)
	PruneAPIUsage(ctx context.Context, before time.Time) (int64, error)
}
