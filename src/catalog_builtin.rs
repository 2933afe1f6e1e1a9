//! The built-in `en` and `es` messages: one row per code, so a missing translation shows up
//! as a gap in the table rather than somewhere in a second file.

use crate::codes::*;

/// Key of the message used when neither the code nor its status has one. Not a valid code on
/// purpose, so it can never collide with an upstream-supplied code.
pub const GENERIC: &str = "*";

/// `(code, en, es)`. Spanish uses the informal "tú", as most consumer apps in Spanish do.
pub(crate) const MESSAGES: &[(&str, &str, &str)] = &[
    (
        ROUTE_NOT_FOUND,
        "No service is available at this address",
        "No hay ningún servicio disponible en esta dirección",
    ),
    (
        UPSTREAM_UNAVAILABLE,
        "The service is unavailable; please try again later",
        "El servicio no está disponible; inténtalo de nuevo más tarde",
    ),
    (
        UPSTREAM_TIMEOUT,
        "The request timed out",
        "Tiempo de espera agotado",
    ),
    (
        OVERLOADED,
        "The service is overloaded; please try again in a few seconds",
        "El servicio está sobrecargado; inténtalo de nuevo en unos segundos",
    ),
    (
        BAD_REQUEST,
        "The request is not valid",
        "La solicitud no es válida",
    ),
    (
        UNAUTHORIZED,
        "Invalid credentials",
        "Credenciales inválidas",
    ),
    (
        PAYMENT_REQUIRED,
        "Payment is required to continue",
        "Se requiere un pago para continuar",
    ),
    (
        FORBIDDEN,
        "You do not have permission to perform this action",
        "No tienes permiso para realizar esta acción",
    ),
    (NOT_FOUND, "Resource not found", "Recurso no encontrado"),
    (
        METHOD_NOT_ALLOWED,
        "This method is not allowed for this resource",
        "Este método no está permitido para este recurso",
    ),
    (
        NOT_ACCEPTABLE,
        "None of the requested response formats is available",
        "Ninguno de los formatos de respuesta solicitados está disponible",
    ),
    (
        REQUEST_TIMEOUT,
        "The request took too long to arrive",
        "La solicitud tardó demasiado en llegar",
    ),
    (
        CONFLICT,
        "The request conflicts with the current state of the resource",
        "La solicitud entra en conflicto con el estado actual del recurso",
    ),
    (
        GONE,
        "The resource is no longer available",
        "El recurso ya no está disponible",
    ),
    (
        PAYLOAD_TOO_LARGE,
        "The request body is too large",
        "El cuerpo de la solicitud es demasiado grande",
    ),
    (
        UNSUPPORTED_MEDIA_TYPE,
        "The content type is not supported",
        "El tipo de contenido no es compatible",
    ),
    (
        VALIDATION_ERROR,
        "The submitted data is not valid",
        "Los datos enviados no son válidos",
    ),
    (
        TOO_MANY_REQUESTS,
        "Too many requests; please try again later",
        "Demasiadas solicitudes; inténtalo de nuevo más tarde",
    ),
    (
        CLIENT_ERROR,
        "The request could not be processed",
        "No se pudo procesar la solicitud",
    ),
    (
        INTERNAL_ERROR,
        "Internal server error",
        "Error interno del servidor",
    ),
    (
        NOT_IMPLEMENTED,
        "This operation is not supported",
        "Esta operación no está disponible",
    ),
    (
        BAD_GATEWAY,
        "The service returned an invalid response",
        "El servicio devolvió una respuesta no válida",
    ),
    (
        SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable",
        "El servicio no está disponible temporalmente",
    ),
    (
        GATEWAY_TIMEOUT,
        "The service took too long to respond",
        "El servicio tardó demasiado en responder",
    ),
    (
        SERVER_ERROR,
        "The server could not complete the request",
        "El servidor no pudo completar la solicitud",
    ),
    (
        UPSTREAM_ERROR,
        "The service returned an unexpected response",
        "El servicio devolvió una respuesta inesperada",
    ),
    (
        GENERIC,
        "An unexpected error occurred",
        "Se produjo un error inesperado",
    ),
];
