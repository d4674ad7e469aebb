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


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    role = ma.fields.Function(lambda user: user.role.value)
