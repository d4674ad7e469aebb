import marshmallow as ma

from app.api.fields import Text


class TokenRequestSchema(ma.Schema):
    email = Text(required=True, validate=ma.validate.Length(min=1, max=254))
    password = Text(required=True, validate=ma.validate.Length(min=1, max=256))
    otp = Text(
        load_default=None,
        validate=ma.validate.Length(max=32),
        metadata={"description": "Authenticator-app or recovery code, for two-step accounts"},
    )
    client_name = Text(
        load_default=None,
        validate=ma.validate.Length(max=255),
        metadata={
            "description": "What the account page calls this API session (default: the "
            "request's User-Agent)"
        },
    )


class RefreshTokenRequestSchema(ma.Schema):
    refresh_token = Text(required=True, validate=ma.validate.Length(min=1, max=512))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(
        required=True,
        metadata={"description": "For POST /auth/refresh; each one works once (rotation)"},
    )
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds the access token is valid"}
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    role = ma.fields.Function(lambda user: user.role.value)
