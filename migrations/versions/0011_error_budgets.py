"""service level objectives and error budgets; an index for reading a board's events by type

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:54:05.353759

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('service_objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('lane_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('count_andon', sa.Boolean(), nullable=False),
    sa.Column('incident_priority', sa.Integer(), nullable=False),
    sa.Column('alerts', sa.String(length=10), nullable=False),
    sa.Column('restored_column_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_service_objectives_board_id_boards')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_objectives_created_by_id_users')),
    sa.ForeignKeyConstraint(['lane_id'], ['lanes.id'], name=op.f('fk_service_objectives_lane_id_lanes')),
    sa.ForeignKeyConstraint(['restored_column_id'], ['board_columns.id'], name=op.f('fk_service_objectives_restored_column_id_board_columns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_objectives'))
    )
    with op.batch_alter_table('service_objectives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_objectives_board_id'), ['board_id'], unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_board_type', ['board_id', 'type'], unique=False)



def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_board_type')
    with op.batch_alter_table('service_objectives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_objectives_board_id'))

    op.drop_table('service_objectives')
