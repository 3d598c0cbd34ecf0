package dashboard

import (
	"sync"
	"sync/atomic"
)

// dropCache is a map of values read from the store that the change feed
// (or this process, after a change) drops key by key. A value is kept only
// if no drop happened while it was read, so that a revocation racing a
// read cannot leave the old value cached. Disabled (there is no feed to
// hear other processes' changes), it reads the store every time.
type dropCache[K comparable, V any] struct {
	enabled bool
	epoch   atomic.Uint64 // bumped by every drop

	mu sync.RWMutex
	m  map[K]V
}

func newDropCache[K comparable, V any](enabled bool) *dropCache[K, V] {
	return &dropCache[K, V]{enabled: enabled, m: map[K]V{}}
}

// get returns key's value, calling load on a miss; an error from load is
// returned and nothing is cached.
func (c *dropCache[K, V]) get(key K, load func() (V, error)) (V, error) {
	if c.enabled {
		c.mu.RLock()
		v, ok := c.m[key]
		c.mu.RUnlock()
		if ok {
			return v, nil
		}
	}
	epoch := c.epoch.Load()
	v, err := load()
	if err != nil {
		var zero V
		return zero, err
	}
	if c.enabled {
		c.mu.Lock()
		if c.epoch.Load() == epoch {
			c.m[key] = v
		}
		c.mu.Unlock()
	}
	return v, nil
}

// drop forgets key's value.
func (c *dropCache[K, V]) drop(key K) {
	c.epoch.Add(1)
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
