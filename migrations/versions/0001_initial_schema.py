"""Initial schema: licences, models, renders, passes, runs, tags (the whole record).

Revision ID: 0001
Revises:
Create Date: 2026-11-24 18:31:20.138380
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('licence',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('spdx', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('commons_template', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('output_rights', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('restrictions', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('short_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('licence_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('added', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['licence_id'], ['licence.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('render',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('licence_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tool', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('store_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('linked_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_mtime_ns', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['licence_id'], ['licence.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    with op.batch_alter_table('render', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_author'), ['author'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_created'), ['created'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_height'), ['height'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_licence_id'), ['licence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_tool'), ['tool'], unique=False)
        batch_op.create_index(batch_op.f('ix_render_width'), ['width'], unique=False)

    op.create_table('run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipe_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recipe', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('final_render_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['final_render_id'], ['render.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('tag',
    sa.Column('render_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['render_id'], ['render.id'], ),
    sa.PrimaryKeyConstraint('render_id', 'name')
    )
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_name'), ['name'], unique=False)

    op.create_table('pass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('render_id', sa.Integer(), nullable=True),
    sa.Column('input_render_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('negative_prompt', sa.Text(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('sampler', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('steps', sa.Integer(), nullable=True),
    sa.Column('steps_run', sa.Integer(), nullable=True),
    sa.Column('cfg', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('denoise', sa.Float(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('upscaler_id', sa.Integer(), nullable=True),
    sa.Column('software', sa.JSON(), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('raw_metadata', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['input_render_id'], ['render.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['model.id'], ),
    sa.ForeignKeyConstraint(['render_id'], ['render.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ),
    sa.ForeignKeyConstraint(['upscaler_id'], ['model.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pass_cfg'), ['cfg'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_input_render_id'), ['input_render_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_render_id'), ['render_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_pass_run_position', ['run_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_sampler'), ['sampler'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_seed'), ['seed'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_steps'), ['steps'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('pass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pass_steps'))
        batch_op.drop_index(batch_op.f('ix_pass_seed'))
        batch_op.drop_index(batch_op.f('ix_pass_sampler'))
        batch_op.drop_index('ix_pass_run_position')
        batch_op.drop_index(batch_op.f('ix_pass_run_id'))
        batch_op.drop_index(batch_op.f('ix_pass_render_id'))
        batch_op.drop_index(batch_op.f('ix_pass_model_id'))
        batch_op.drop_index(batch_op.f('ix_pass_kind'))
        batch_op.drop_index(batch_op.f('ix_pass_input_render_id'))
        batch_op.drop_index(batch_op.f('ix_pass_cfg'))

    op.drop_table('pass')
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_name'))

    op.drop_table('tag')
    op.drop_table('run')
    with op.batch_alter_table('render', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_render_width'))
        batch_op.drop_index(batch_op.f('ix_render_tool'))
        batch_op.drop_index(batch_op.f('ix_render_licence_id'))
        batch_op.drop_index(batch_op.f('ix_render_height'))
        batch_op.drop_index(batch_op.f('ix_render_created'))
        batch_op.drop_index(batch_op.f('ix_render_author'))

    op.drop_table('render')
    op.drop_table('model')
    op.drop_table('licence')

