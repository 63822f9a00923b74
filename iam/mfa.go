package iam

import (
	"context"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/totp"
	"github.com/twinvault/twinvault/barrier"
)

// MFADevice is a virtual MFA device. Its seed is stored through the
// barrier like every record, and handed out once, when it is created.
type MFADevice struct {
	Serial   string    `json:"serial"` // arn:aws:iam::<account>:mfa/<path><name>
	Seed     []byte    `json:"seed"`
	User     string    `json:"user,omitempty"` // the user it is enabled for
	Enabled  time.Time `json:"enabled,omitzero"`
	Created  time.Time `json:"created"`
	LastStep int64     `json:"lastStep"` // the last time step accepted: no code is accepted twice
	Failures int       `json:"failures"` // wrong codes in a row
}

// MaxMFAFailures wrong codes in a row lock a device until it is enabled
// again.
const MaxMFAFailures = 10

// NewVirtualMFADevice is a device just created, with what its owner
// needs to set up an authenticator app.
type NewVirtualMFADevice struct {
	Serial     string
	Base32Seed string
	QRCodePNG  []byte
}

// CreateVirtualMFADevice makes an unassigned device with a fresh seed.
func (s *Store) CreateVirtualMFADevice(ctx context.Context, name, path string) (*NewVirtualMFADevice, error) {
	if err := checkName("virtualMFADeviceName", name, namePattern); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	seed, err := totp.NewSecret()
	if err != nil {
		return nil, err
	}
	d := &MFADevice{Serial: "arn:aws:iam::" + Account + ":mfa" + path + name, Seed: seed, Created: s.now().UTC(), LastStep: -1}
	png, err := totp.QRCodePNG(totp.URI(seed, name, "TwinVault"))
	if err != nil {
		return nil, err
	}
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, found, err := get[MFADevice](s, tx, "mfa", d.Serial); err != nil || found {
			if found {
				return twinvault.Errorf(twinvault.EntityAlreadyExists, "MFADevice entity at the same path and name already exists.")
			}
			return err
		}
		return put(s, tx, "mfa", d.Serial, d)
	})
	if err != nil {
		return nil, err
	}
	return &NewVirtualMFADevice{Serial: d.Serial, Base32Seed: totp.Base32(seed), QRCodePNG: png}, nil
}

func (s *Store) device(tx *barrier.Tx, serial string) (*MFADevice, error) {
	d, found, err := get[MFADevice](s, tx, "mfa", serial)
	if err != nil {
		return nil, err
	}
	if !found || d.Serial != serial {
		return nil, noSuch("MFA device with serial number %s not found.", serial)
	}
	return d, nil
}

func invalidCode() error {
	return twinvault.Errorf(twinvault.InvalidAuthenticationCode, "Authentication code for device is not valid.")
}

// EnableMFADevice assigns a device to a user, who proves holding its seed
// with two consecutive codes.
func (s *Store) EnableMFADevice(ctx context.Context, user, serial, code1, code2 string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		u, err := s.user(tx, user)
		if err != nil {
			return err
		}
		d, err := s.device(tx, serial)
		if err != nil {
			return err
		}
		if d.User != "" {
			return twinvault.Errorf(twinvault.EntityAlreadyExists, "MFA device is already in use.")
		}
		step, ok := totp.VerifyConsecutive(d.Seed, code1, code2, s.now())
		if !ok || step <= d.LastStep {
			return invalidCode()
		}
		d.User, d.Enabled, d.LastStep, d.Failures = user, s.now().UTC(), step, 0
		u.MFA = addUnique(u.MFA, serial)
		if err := put(s, tx, "u", user, u); err != nil {
			return err
		}
		return put(s, tx, "mfa", serial, d)
	})
}

// DeactivateMFADevice takes a device from its user; the device stays,
// unassigned.
func (s *Store) DeactivateMFADevice(ctx context.Context, user, serial string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		u, err := s.user(tx, user)
		if err != nil {
			return err
		}
		d, err := s.device(tx, serial)
		if err != nil {
			return err
		}
		var found bool
		if u.MFA, found = remove(u.MFA, serial); !found || d.User != user {
			return noSuch("MFA device with serial number %s is not enabled for user %s.", serial, user)
		}
		d.User, d.Enabled = "", time.Time{}
		if err := put(s, tx, "u", user, u); err != nil {
			return err
		}
		return put(s, tx, "mfa", serial, d)
	})
}

// DeleteVirtualMFADevice deletes a device that no user has.
func (s *Store) DeleteVirtualMFADevice(ctx context.Context, serial string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		d, err := s.device(tx, serial)
		if err != nil {
			return err
		}
		if d.User != "" {
			return twinvault.Errorf(twinvault.DeleteConflict, "MFA device is still in use; deactivate it first.")
		}
		return del(s, tx, "mfa", serial)
	})
}

// MFADevices lists devices: those enabled for user, or (user empty) every
// virtual device. Seeds are blanked.
func (s *Store) MFADevices(ctx context.Context, user string) ([]*MFADevice, error) {
	var out []*MFADevice
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		all, err := list[MFADevice](s, tx, "mfa")
		for _, d := range all {
			if user == "" || d.User == user {
				d.Seed = nil
				out = append(out, d)
			}
		}
		return err
	})
	return sortedNames(out, func(d *MFADevice) string { return d.Serial }), err
}

// checkMFA verifies a code from a device enabled for user, inside tx, and
// records the step it used, so that no code serves twice. A wrong code is
// counted (ok false, err nil: the caller commits the count and then
// refuses with errMFAFailed); too many in a row lock the device.
func (s *Store) checkMFA(tx *barrier.Tx, user, serial, code string) (ok bool, err error) {
	d, found, err := get[MFADevice](s, tx, "mfa", serial)
	if err != nil {
		return false, err
	}
	if !found || d.User != user {
		return false, twinvault.Errorf(twinvault.AccessDenied, "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
	}
	if d.Failures >= MaxMFAFailures {
		return false, twinvault.Errorf(twinvault.AccessDenied, "MultiFactorAuthentication failed: the device is locked after too many wrong codes; enable it again.")
	}
	step, ok := totp.Verify(d.Seed, code, time.Now(), d.LastStep)
	if ok {
		d.LastStep, d.Failures = step, 0
	} else {
		d.Failures++
	}
	return ok, put(s, tx, "mfa", serial, d)
}

var errMFAFailed = twinvault.Errorf(twinvault.AccessDenied, "MultiFactorAuthentication failed with invalid MFA one time pass code.")
