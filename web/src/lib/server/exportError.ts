// Why an export download was refused, carried back to the Analytics page for
// one view (a short-lived cookie, so no message text travels in a URL).
export const EXPORT_ERROR_COOKIE = 'tf_export_error';
export const EXPORT_ERROR_PATH = '/client/analytics';
