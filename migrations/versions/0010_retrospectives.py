"""retrospectives: cadence, sessions, notes, groups, votes and actions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retro_cadences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'],
                            name=op.f('fk_retro_cadences_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retro_cadences')),
    sa.UniqueConstraint('board_id', name=op.f('uq_retro_cadences_board_id'))
    )
    op.create_table('retrospectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=8), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('votes_each', sa.Integer(), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'],
                            name=op.f('fk_retrospectives_board_id_boards')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_retrospectives_created_by_id_users')),
    sa.ForeignKeyConstraint(['facilitator_id'], ['users.id'],
                            name=op.f('fk_retrospectives_facilitator_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retrospectives'))
    )
    op.create_index(op.f('ix_retrospectives_board_id'), 'retrospectives', ['board_id'])
    op.create_table('retro_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('retro_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['retro_id'], ['retrospectives.id'],
                            name=op.f('fk_retro_groups_retro_id_retrospectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retro_groups'))
    )
    op.create_index(op.f('ix_retro_groups_retro_id'), 'retro_groups', ['retro_id'])
    op.create_table('retro_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('retro_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                            name=op.f('fk_retro_notes_author_id_users')),
    sa.ForeignKeyConstraint(['group_id'], ['retro_groups.id'],
                            name=op.f('fk_retro_notes_group_id_retro_groups')),
    sa.ForeignKeyConstraint(['retro_id'], ['retrospectives.id'],
                            name=op.f('fk_retro_notes_retro_id_retrospectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retro_notes'))
    )
    op.create_index(op.f('ix_retro_notes_group_id'), 'retro_notes', ['group_id'])
    op.create_index(op.f('ix_retro_notes_retro_id'), 'retro_notes', ['retro_id'])
    op.create_table('retro_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('retro_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['retro_groups.id'],
                            name=op.f('fk_retro_votes_group_id_retro_groups')),
    sa.ForeignKeyConstraint(['note_id'], ['retro_notes.id'],
                            name=op.f('fk_retro_votes_note_id_retro_notes')),
    sa.ForeignKeyConstraint(['retro_id'], ['retrospectives.id'],
                            name=op.f('fk_retro_votes_retro_id_retrospectives')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_retro_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retro_votes'))
    )
    op.create_index(op.f('ix_retro_votes_retro_id'), 'retro_votes', ['retro_id'])
    op.create_table('retro_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('retro_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'],
                            name=op.f('fk_retro_actions_card_id_cards')),
    sa.ForeignKeyConstraint(['retro_id'], ['retrospectives.id'],
                            name=op.f('fk_retro_actions_retro_id_retrospectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retro_actions')),
    sa.UniqueConstraint('card_id', name=op.f('uq_retro_actions_card_id'))
    )
    op.create_index(op.f('ix_retro_actions_retro_id'), 'retro_actions', ['retro_id'])


def downgrade():
    op.drop_index(op.f('ix_retro_actions_retro_id'), table_name='retro_actions')
    op.drop_table('retro_actions')
    op.drop_index(op.f('ix_retro_votes_retro_id'), table_name='retro_votes')
    op.drop_table('retro_votes')
    op.drop_index(op.f('ix_retro_notes_retro_id'), table_name='retro_notes')
    op.drop_index(op.f('ix_retro_notes_group_id'), table_name='retro_notes')
    op.drop_table('retro_notes')
    op.drop_index(op.f('ix_retro_groups_retro_id'), table_name='retro_groups')
    op.drop_table('retro_groups')
    op.drop_index(op.f('ix_retrospectives_board_id'), table_name='retrospectives')
    op.drop_table('retrospectives')
    op.drop_table('retro_cadences')
