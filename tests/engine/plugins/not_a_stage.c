/* Test plugin: a shared module without the stage entry point. */
int not_a_stage_answer(void);
int not_a_stage_answer(void)
{
    return 42;
}
