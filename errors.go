// Package twinvault holds what every part of the server shares: the error
// type that carries a TwinMaker error code, and ARNs. It imports only the
// standard library.
package twinvault

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes, as sent in the X-Amzn-ErrorType header.
const (
	ValidationException           = "ValidationException"
	ResourceNotFoundException     = "ResourceNotFoundException"
	ConflictException             = "ConflictException"
	AccessDeniedException         = "AccessDeniedException"
	ServiceQuotaExceededException = "ServiceQuotaExceededException"
	ThrottlingException           = "ThrottlingException"
	QueryTimeoutException         = "QueryTimeoutException"
	ConnectorFailureException     = "ConnectorFailureException"
	ConnectorTimeoutException     = "ConnectorTimeoutException"
	TooManyTagsException          = "TooManyTagsException"
	InternalServerException       = "InternalServerException"

	// Authentication failures (SigV4), answered before any operation runs.
	MissingAuthenticationTokenException = "MissingAuthenticationTokenException"
	IncompleteSignatureException        = "IncompleteSignatureException"
	InvalidSignatureException           = "InvalidSignatureException"
	UnrecognizedClientException         = "UnrecognizedClientException"
	ExpiredTokenException               = "ExpiredTokenException"

	// IAM and STS codes (Query protocol).
	NoSuchEntity              = "NoSuchEntity"
	EntityAlreadyExists       = "EntityAlreadyExists"
	MalformedPolicyDocument   = "MalformedPolicyDocument"
	LimitExceeded             = "LimitExceeded"
	DeleteConflict            = "DeleteConflict"
	InvalidInput              = "InvalidInput"
	ValidationError           = "ValidationError"
	AccessDenied              = "AccessDenied"
	InvalidAction             = "InvalidAction"
	MissingParameter          = "MissingParameter"
	InvalidClientTokenID      = "InvalidClientTokenId"
	InvalidAuthenticationCode = "InvalidAuthenticationCode"

	// S3 codes.
	NoSuchBucket            = "NoSuchBucket"
	NoSuchKey               = "NoSuchKey"
	BucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
	BucketNotEmpty          = "BucketNotEmpty"
	InvalidBucketName       = "InvalidBucketName"
	InvalidArgument         = "InvalidArgument"
	InvalidRange            = "InvalidRange"
	NoSuchUpload            = "NoSuchUpload"
	InvalidPart             = "InvalidPart"
	InvalidPartOrder        = "InvalidPartOrder"
	EntityTooSmall          = "EntityTooSmall"
	EntityTooLarge          = "EntityTooLarge"
	MalformedXML            = "MalformedXML"
	PreconditionFailed      = "PreconditionFailed"
	InvalidTag              = "InvalidTag"
	InvalidRequest          = "InvalidRequest"
	NoSuchTagSet            = "NoSuchTagSet"

	// MisdirectedRequest: a FIPS endpoint reached a process not in FIPS
	// 140-3 mode.
	MisdirectedRequest = "MisdirectedRequest"

	// ServiceUnavailable: the audit log cannot record the call, so it
	// does not run.
	ServiceUnavailable = "ServiceUnavailableException"

	// Front-door failures that are not TwinMaker operations.
	UnknownOperationException = "UnknownOperationException"
	RequestEntityTooLarge     = "RequestEntityTooLargeException"
	SerializationException    = "SerializationException"
)

var statusByCode = map[string]int{
	ValidationException:                 http.StatusBadRequest,
	QueryTimeoutException:               http.StatusBadRequest,
	TooManyTagsException:                http.StatusBadRequest,
	ServiceQuotaExceededException:       http.StatusPaymentRequired,
	AccessDeniedException:               http.StatusForbidden,
	ResourceNotFoundException:           http.StatusNotFound,
	ConflictException:                   http.StatusConflict,
	ConnectorFailureException:           http.StatusFailedDependency,
	ConnectorTimeoutException:           http.StatusFailedDependency,
	ThrottlingException:                 http.StatusTooManyRequests,
	InternalServerException:             http.StatusInternalServerError,
	MissingAuthenticationTokenException: http.StatusForbidden,
	IncompleteSignatureException:        http.StatusBadRequest,
	InvalidSignatureException:           http.StatusForbidden,
	UnrecognizedClientException:         http.StatusForbidden,
	ExpiredTokenException:               http.StatusForbidden,
	UnknownOperationException:           http.StatusNotFound,
	RequestEntityTooLarge:               http.StatusRequestEntityTooLarge,
	SerializationException:              http.StatusBadRequest,
	NoSuchEntity:                        http.StatusNotFound,
	EntityAlreadyExists:                 http.StatusConflict,
	MalformedPolicyDocument:             http.StatusBadRequest,
	LimitExceeded:                       http.StatusConflict,
	DeleteConflict:                      http.StatusConflict,
	InvalidInput:                        http.StatusBadRequest,
	ValidationError:                     http.StatusBadRequest,
	AccessDenied:                        http.StatusForbidden,
	InvalidAction:                       http.StatusBadRequest,
	MissingParameter:                    http.StatusBadRequest,
	InvalidClientTokenID:                http.StatusForbidden,
	InvalidAuthenticationCode:           http.StatusForbidden,
	ServiceUnavailable:                  http.StatusServiceUnavailable,
	MisdirectedRequest:                  http.StatusMisdirectedRequest,
	NoSuchBucket:                        http.StatusNotFound,
	NoSuchKey:                           http.StatusNotFound,
	BucketAlreadyOwnedByYou:             http.StatusConflict,
	BucketNotEmpty:                      http.StatusConflict,
	InvalidBucketName:                   http.StatusBadRequest,
	InvalidArgument:                     http.StatusBadRequest,
	InvalidRange:                        http.StatusRequestedRangeNotSatisfiable,
	NoSuchUpload:                        http.StatusNotFound,
	InvalidPart:                         http.StatusBadRequest,
	InvalidPartOrder:                    http.StatusBadRequest,
	EntityTooSmall:                      http.StatusBadRequest,
	EntityTooLarge:                      http.StatusBadRequest,
	MalformedXML:                        http.StatusBadRequest,
	PreconditionFailed:                  http.StatusPreconditionFailed,
	InvalidTag:                          http.StatusBadRequest,
	InvalidRequest:                      http.StatusBadRequest,
	NoSuchTagSet:                        http.StatusNotFound,
}

// Error is a failure the client is meant to see: its Code picks the
// TwinMaker error type and HTTP status, its Message is sent verbatim, so it
// must never hold a secret.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status for the error's code; unknown codes are 500.
func (e *Error) Status() int {
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// InternalServerException when there is none (the cause is then internal
// and must not be shown to the client).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalServerException
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
