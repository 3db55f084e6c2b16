import click

from atlas.cli.common import echo_json, json_option
from atlas.core.errors import AtlasError


@click.group()
def keys():
    """The C2PA signing identity that atlas signs renders with."""


def _home(ctx):
    from atlas.core.catalogue.home import Home

    home = Home.resolve(ctx.find_root().obj.get("home"))
    home.create()
    return home


@keys.command("init")
@click.option("--owner", default=None, help="Name put in the certificates (default: config author.name).")
@click.option("--force", is_flag=True, help="Replace an existing identity.")
@json_option
@click.pass_context
def init(ctx, owner, force, as_json):
    """Create a local signing identity: an ES256 CA and a signer certificate it issues."""
    from atlas.core.trust.keys import create_identity

    home = _home(ctx)
    owner = owner or home.config().get("author", {}).get("name") or "atlas user"
    paths = create_identity(home.keys, owner=owner, force=force)
    if as_json:
        echo_json({name: str(path) for name, path in paths.items()})
        return
    click.echo(f"signing identity created in {home.keys}")
    click.echo(f"  CA certificate (trust anchor): {paths['atlas-ca.pem']}")
    click.echo(f"  signer chain: {paths['signer-chain.pem']}")
    click.echo("new renders are signed with it; set [signing] enabled = false in config.toml to stop")


@keys.command("show")
@json_option
@click.pass_context
def show(ctx, as_json):
    """Show which identity signs renders and which CA is trusted when verifying."""
    from cryptography import x509

    from atlas.core.trust.keys import identity, problems, signing_identity, trust_anchor

    home = _home(ctx)
    damage = problems(home.keys)
    if damage:  # report it whole rather than fail on the first file that will not load
        fix = "atlas keys init --force (files signed with the old identity will no longer verify as trusted)"
        if as_json:
            echo_json({"damaged": damage, "folder": str(home.keys), "fix": fix})
        else:
            click.echo(f"the signing identity in {home.keys} is damaged:")
            for problem in damage:
                click.echo(f"  {problem}")
            click.echo(f"fix: {fix}")
        raise AtlasError(f"{len(damage)} problem{'s' if len(damage) > 1 else ''} in the signing identity")
    found = identity(home)
    signer = x509.load_pem_x509_certificates(found.chain_pem)[0] if found else None
    anchor = trust_anchor(home)
    facts = {"signing": signing_identity(home) is not None, "source": found.source if found else None,
             "signer": signer.subject.rfc4514_string() if signer else None,
             "issuer": signer.issuer.rfc4514_string() if signer else None,
             "not_after": signer.not_valid_after_utc.isoformat() if signer else None,
             "trust_anchor": x509.load_pem_x509_certificates(anchor)[0].subject.rfc4514_string() if anchor else None}
    if as_json:
        echo_json(facts)
        return
    for key, value in facts.items():
        click.echo(f"{key:<13} {value if value is not None else '-'}")
